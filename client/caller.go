package client

import (
	"fmt"
	"net/http"
)

// Caller makes a call run as another user. It is embedded in the options of every call that can
// impersonate (CreateOptions, GetOptions, UpdateOptions, UpsertOptions, DeleteOptions, QueryOptions,
// FetchOptions, BatchOptions), so every call site has the same shape:
//
//	opts := &client.CreateOptions{Caller: client.Caller{ID: userID}}
//
// The zero Caller runs the call as the authenticated user. Dataverse requires that user to hold the
// prvActOnBehalfOfAnotherUser privilege; the operation then runs with the impersonated user's
// privileges and records the authenticated user as createdonbehalfby or modifiedonbehalfby.
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/impersonate-another-user-web-api
type Caller struct {
	// ID is the systemuserid of the user to act as, sent as the MSCRMCallerID header.
	ID string
	// ObjectID is the Microsoft Entra object id of the user to act as, sent as the CallerObjectId
	// header; Microsoft recommends it over ID.
	ObjectID string
}

// setHeaders sets the impersonation headers, refusing ids that are not GUIDs (curly braces are
// tolerated and dropped).
func (c Caller) setHeaders(h http.Header) error {
	if c.ID != "" {
		if !isGUID(c.ID) {
			return fmt.Errorf("client: Caller.ID %q is not a GUID: %w", c.ID, ErrInvalidInput)
		}
		h.Set("MSCRMCallerID", trimBraces(c.ID))
	}
	if c.ObjectID != "" {
		if !isGUID(c.ObjectID) {
			return fmt.Errorf("client: Caller.ObjectID %q is not a GUID: %w", c.ObjectID, ErrInvalidInput)
		}
		h.Set("CallerObjectId", trimBraces(c.ObjectID))
	}
	return nil
}
