package client

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestNewError(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 5, 8, 10, 0, 0, 0, time.UTC)
	const u = "https://org.crm.dynamics.com/api/data/v9.2/accounts(7d577253-3ef0-4a0a-bb7f-8335c2596e70)"
	tests := []struct {
		name       string
		status     int
		header     http.Header
		body       string
		wantCode   string
		wantMsg    string
		wantRetry  time.Duration
		wantString string
		is         error
	}{
		{
			name: "dataverse envelope", status: 412,
			body:       `{"error":{"code":"0x80060882","message":"The version of the existing record doesn't match the RowVersion property provided."}}`,
			wantCode:   "0x80060882",
			wantMsg:    "The version of the existing record doesn't match the RowVersion property provided.",
			wantString: "dataverse: PATCH " + u + ": 412 0x80060882: The version of the existing record doesn't match the RowVersion property provided.",
			is:         ErrPreconditionFailed,
		},
		{
			name: "empty code", status: 404,
			body:       `{"error":{"code":"","message":"No HTTP resource was found that matches the request URI."}}`,
			wantMsg:    "No HTTP resource was found that matches the request URI.",
			wantString: "dataverse: PATCH " + u + ": 404: No HTTP resource was found that matches the request URI.",
			is:         ErrNotFound,
		},
		{
			name: "empty 401 with challenge", status: 401,
			header:     http.Header{"Www-Authenticate": {"Bearer authorization_uri=https://login/x"}},
			wantMsg:    "Unauthorized (WWW-Authenticate: Bearer authorization_uri=https://login/x)",
			wantString: "dataverse: PATCH " + u + ": 401: Unauthorized (WWW-Authenticate: Bearer authorization_uri=https://login/x)",
			is:         ErrUnauthorized,
		},
		{
			name: "identity-platform style body", status: 401, body: `{"error":"unauthorized","error_description":"token expired"}`,
			wantCode: "unauthorized", wantMsg: "token expired",
			wantString: "dataverse: PATCH " + u + ": 401 unauthorized: token expired",
			is:         ErrUnauthorized,
		},
		{
			name: "html from a proxy", status: 502, body: "<html>\n  <body>Bad   gateway</body>\n</html>",
			wantMsg:    "<html> <body>Bad gateway</body> </html>",
			wantString: "dataverse: PATCH " + u + ": 502: <html> <body>Bad gateway</body> </html>",
		},
		{
			name: "throttled with seconds", status: 429,
			header:     http.Header{"Retry-After": {"7"}},
			body:       `{"error":{"code":"0x80072322","message":"Number of requests exceeded the limit of 6000 over time window of 300 seconds."}}`,
			wantCode:   "0x80072322",
			wantMsg:    "Number of requests exceeded the limit of 6000 over time window of 300 seconds.",
			wantRetry:  7 * time.Second,
			wantString: "dataverse: PATCH " + u + ": 429 0x80072322: Number of requests exceeded the limit of 6000 over time window of 300 seconds.",
			is:         ErrTooManyRequests,
		},
		{
			name: "unavailable with a date", status: 503,
			header:     http.Header{"Retry-After": {now.Add(90 * time.Second).Format(http.TimeFormat)}},
			wantMsg:    "Service Unavailable",
			wantRetry:  90 * time.Second,
			wantString: "dataverse: PATCH " + u + ": 503: Service Unavailable",
		},
		{
			name: "forbidden with inner error only", status: 403,
			body:    `{"error":{"code":"0x80040220","message":"","innererror":{"message":"Principal user is missing prvReadAccount privilege"}}}`,
			wantMsg: "Principal user is missing prvReadAccount privilege", wantCode: "0x80040220",
			wantString: "dataverse: PATCH " + u + ": 403 0x80040220: Principal user is missing prvReadAccount privilege",
			is:         ErrForbidden,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := tt.header
			if h == nil {
				h = http.Header{}
			}
			e := newError("PATCH", u, tt.status, h, []byte(tt.body), now)
			got := struct {
				Code, Msg, String string
				Retry             time.Duration
			}{e.Code, e.Message, e.Error(), e.RetryAfter}
			want := struct {
				Code, Msg, String string
				Retry             time.Duration
			}{tt.wantCode, tt.wantMsg, tt.wantString, tt.wantRetry}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			var err error = fmt.Errorf("wrapped: %w", e)
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(%v) = false", tt.is)
			}
			for _, other := range []error{ErrNotFound, ErrPreconditionFailed, ErrUnauthorized, ErrForbidden, ErrTooManyRequests} {
				if other != tt.is && errors.Is(err, other) {
					t.Errorf("errors.Is(%v) = true for status %d", other, tt.status)
				}
			}
			var target *Error
			if !errors.As(err, &target) || target != e {
				t.Errorf("errors.As did not find the *Error")
			}
		})
	}
}

func TestErrorRedactsSecretsInURL(t *testing.T) {
	t.Parallel()
	e := newError("GET", "https://org/api/data/v9.2/x?code=abc123&name=ok", 400, http.Header{}, nil, time.Now())
	want := "dataverse: GET https://org/api/data/v9.2/x?code=REDACTED&name=ok: 400: Bad Request"
	if e.Error() != want {
		t.Errorf("Error() = %q, want %q", e.Error(), want)
	}
}
