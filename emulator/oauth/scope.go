package oauth

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// scopeSet is a parsed delegated scope request: one resource with the permissions asked of
// it, and the OpenID Connect scopes beside them.
type scopeSet struct {
	resource string   // the access token's aud
	perms    []string // the scp values, e.g. user_impersonation
	granted  []string // the resource scopes in full, as the token response's scope lists them

	openid, profile, email, offline bool
}

// graphResource is the resource Entra assumes for scope names that do not name one
// ("User.Read") and for requests made only of OpenID Connect scopes.
const graphResource = "https://graph.microsoft.com"

// defaultPermission is what a delegated "<resource>/.default" grants: Dataverse exposes only
// user_impersonation, so that is all a consented app could hold.
const defaultPermission = "user_impersonation"

// String is the response's scope parameter: the granted resource scopes, then the OpenID
// Connect scopes that were asked for.
func (ss scopeSet) String() string {
	out := slices.Clone(ss.granted)
	for _, o := range []struct {
		on   bool
		name string
	}{{ss.openid, "openid"}, {ss.profile, "profile"}, {ss.email, "email"}, {ss.offline, "offline_access"}} {
		if o.on {
			out = append(out, o.name)
		}
	}
	return strings.Join(out, " ")
}

// parseDelegatedScope reads the scope of an authorize or refresh request, such as
// "http://127.0.0.1:8080/user_impersonation offline_access openid".
//
// Entra: https://learn.microsoft.com/entra/identity-platform/scopes-oidc
func parseDelegatedScope(raw string) (scopeSet, *aadError) {
	var ss scopeSet
	var resources []string
	for _, tok := range strings.Fields(raw) {
		if !validScopeToken(tok) {
			return scopeSet{}, errBadScope(tok)
		}
		switch strings.ToLower(tok) {
		case "openid":
			ss.openid = true
			continue
		case "profile":
			ss.profile = true
			continue
		case "email":
			ss.email = true
			continue
		case "offline_access":
			ss.offline = true
			continue
		}
		resource, perm := graphResource, tok
		if i := strings.LastIndexByte(tok, '/'); i >= 0 {
			resource, perm = strings.TrimRight(tok[:i], "/"), tok[i+1:]
			if resource == "" || perm == "" {
				return scopeSet{}, errBadScope(tok)
			}
		}
		if perm == ".default" {
			perm = defaultPermission
		}
		if !slices.Contains(resources, resource) {
			resources = append(resources, resource)
		}
		if !slices.Contains(ss.perms, perm) {
			ss.perms = append(ss.perms, perm)
			ss.granted = append(ss.granted, resource+"/"+perm)
		}
	}
	switch len(resources) {
	case 0:
		if !ss.openid && !ss.profile && !ss.email && !ss.offline {
			return scopeSet{}, errNoScope()
		}
		ss.resource, ss.perms, ss.granted = graphResource, []string{"User.Read"}, []string{graphResource + "/User.Read"}
	case 1:
		ss.resource = resources[0]
	default:
		return scopeSet{}, errManyResources(raw)
	}
	return ss, nil
}

// parseAppScope reads the scope of a client credentials request, which must be exactly one
// resource's "/.default", and returns the resource. A doubled slash
// ("https://org.crm.dynamics.com//.default") is tolerated, as Entra does.
//
// Entra: https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow
func parseAppScope(raw string) (string, *aadError) {
	var resource string
	for _, tok := range strings.Fields(raw) {
		if !validScopeToken(tok) {
			return "", errBadScope(tok)
		}
		r, ok := strings.CutSuffix(tok, "/.default")
		r = strings.TrimRight(r, "/")
		if !ok || r == "" {
			return "", &aadError{http.StatusBadRequest, "invalid_scope", 1002012, fmt.Sprintf(
				"The provided value for scope %s is not valid. Client credential flows must have a scope value "+
					"with /.default suffixed to the resource identifier (application ID URI).", tok)}
		}
		if resource != "" && r != resource {
			return "", errManyResources(raw)
		}
		resource = r
	}
	if resource == "" {
		return "", errNoScope()
	}
	return resource, nil
}

// validScopeToken reports whether tok is a scope-token of RFC 6749 section 3.3.
func validScopeToken(tok string) bool {
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		if c < 0x21 || c == '"' || c == '\\' || c > 0x7e {
			return false
		}
	}
	return tok != ""
}

func errNoScope() *aadError {
	return &aadError{http.StatusBadRequest, "invalid_scope", 70011,
		"The provided request must include a 'scope' input parameter."}
}

func errBadScope(tok string) *aadError {
	return &aadError{http.StatusBadRequest, "invalid_scope", 70011, fmt.Sprintf(
		"The provided value for the input parameter 'scope' is not valid. The scope '%s' is not valid.", tok)}
}

func errManyResources(raw string) *aadError {
	return &aadError{http.StatusBadRequest, "invalid_scope", 28000, fmt.Sprintf(
		"Provided value for the input parameter scope is not valid because it contains more than one resource. "+
			"Scope %s is not valid.", raw)}
}
