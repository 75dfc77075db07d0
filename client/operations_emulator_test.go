package client_test

import (
	"context"
	"errors"
	"testing"

	"github.com/dynlocal/dynlocal/client"
)

// CallFunction and CallAction against the emulator: parameters as aliases, a 204 action, and the
// errors of an unknown operation and a missing parameter.
func TestCallOperationsAgainstEmulator(t *testing.T) {
	t.Parallel()
	c, _ := startPollEmulator(t)
	ctx := context.Background()
	me, _, err := c.CallFunction(ctx, "WhoAmI", nil, nil)
	if err != nil || me["UserId"] == nil {
		t.Fatalf("WhoAmI: %v %v", me, err)
	}
	counts, _, err := c.CallFunction(ctx, "RetrieveTotalRecordCount()", map[string]any{"EntityNames": []string{"account", "contact"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if coll, _ := counts["EntityRecordCountCollection"].(map[string]any); coll == nil || len(coll["Keys"].([]any)) != 2 {
		t.Errorf("RetrieveTotalRecordCount: %v", counts)
	}
	rec, resp, err := c.CallAction(ctx, "PublishXml", map[string]any{"ParameterXml": "<importexportxml><entities><entity>account</entity></entities></importexportxml>"}, nil)
	if err != nil || rec != nil || resp.StatusCode != 204 {
		t.Errorf("PublishXml: %v %v %v", rec, resp, err)
	}
	var de *client.Error
	if _, _, err := c.CallFunction(ctx, "NoSuchFunction", nil, nil); !errors.As(err, &de) || de.StatusCode != 404 {
		t.Errorf("unknown function: %v", err)
	}
	if _, _, err := c.CallAction(ctx, "PublishXml", map[string]any{}, nil); !errors.As(err, &de) || de.StatusCode != 400 {
		t.Errorf("missing parameter: %v", err)
	}
	if _, _, err := c.CallFunction(ctx, "https://elsewhere/api/data/v9.2/WhoAmI", nil, nil); !errors.Is(err, client.ErrInvalidInput) {
		t.Errorf("absolute path: %v", err)
	}
}
