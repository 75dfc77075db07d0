package model

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// A State option's DefaultStatus and InvariantName are read from its document and kept in the pack.
func TestStateOptionDefaultStatus(t *testing.T) {
	t.Parallel()
	a, err := ParseAttribute([]byte(`{"LogicalName": "statecode", "AttributeType": "State", "OptionSet": {"Options": [
		{"Value": 0, "Label": {"UserLocalizedLabel": {"Label": "Open"}}, "DefaultStatus": 2, "InvariantName": "Open"},
		{"Value": 1, "Label": {"UserLocalizedLabel": {"Label": "Completed"}}}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	want := []Option{
		{Value: 0, Label: "Open", State: -1, DefaultStatus: 2, InvariantName: "Open"},
		{Value: 1, Label: "Completed", State: -1, DefaultStatus: -1},
	}
	if diff := cmp.Diff(want, a.Options); diff != "" {
		t.Errorf("parsed (-want +got):\n%s", diff)
	}
	packed, err := PackAttributes([]*Attribute{a})
	if err != nil {
		t.Fatal(err)
	}
	back, err := UnpackAttributes(packed)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, back[0].Options); diff != "" {
		t.Errorf("unpacked (-want +got):\n%s", diff)
	}
}
