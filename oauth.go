package blueclerk

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"golang.org/x/oauth2"
)

// Endpoint returns the OAuth 2.0 endpoints of the BlueClerk host baseURL
// ([DefaultBaseURL] when empty): <base>/oauth/authorize and
// <base>/oauth/token, with client credentials sent in the form body
// ([oauth2.AuthStyleInParams]), as the token endpoint expects.
func Endpoint(baseURL string) oauth2.Endpoint {
	if baseURL == "" {
		baseURL = DefaultBaseURL
	}
	base := strings.TrimRight(baseURL, "/")
	return oauth2.Endpoint{
		AuthURL:   base + "/oauth/authorize",
		TokenURL:  base + "/oauth/token",
		AuthStyle: oauth2.AuthStyleInParams,
	}
}

// Scopes a login can request, one read scope per resource and a write scope
// for each resource that can be created. Put the ones the application needs
// in [oauth2.Config.Scopes]; they are sent space-separated.
const (
	ScopeLeadsRead       = "leads.read"
	ScopeTicketsRead     = "tickets.read"
	ScopeTicketsWrite    = "tickets.write"
	ScopeJobsRead        = "jobs.read"
	ScopeJobsWrite       = "jobs.write"
	ScopePropertiesRead  = "properties.read"
	ScopePropertiesWrite = "properties.write"
	ScopeEstimatesRead   = "estimates.read"
	ScopeEstimatesWrite  = "estimates.write"
	ScopeInvoicesRead    = "invoices.read"
	ScopeInvoicesWrite   = "invoices.write"
	ScopeContactsRead    = "contacts.read"
	ScopeContactsWrite   = "contacts.write"
)

// tokenConfig returns a copy of cfg for token requests, with the client
// credentials in the form body unless cfg asks for the Authorization header:
// x/oauth2's auto-detection tries the header first and, on any error, tries
// again, which can spend a single-use code on the failed attempt. The copy
// is made field by field, leaving cfg's internal state alone.
func tokenConfig(cfg *oauth2.Config) *oauth2.Config {
	c := &oauth2.Config{
		ClientID:     cfg.ClientID,
		ClientSecret: cfg.ClientSecret,
		Endpoint:     cfg.Endpoint,
		RedirectURL:  cfg.RedirectURL,
		Scopes:       slices.Clone(cfg.Scopes),
	}
	if c.Endpoint.AuthStyle == oauth2.AuthStyleAutoDetect {
		c.Endpoint.AuthStyle = oauth2.AuthStyleInParams
	}
	return c
}

// checkEndpointURL accepts an absolute https URL, or http for a loopback
// host: credentials and tokens never cross a network in clear text.
func checkEndpointURL(name, raw string) error {
	u, err := url.Parse(raw)
	switch {
	case raw == "":
		return invalidf("the OAuth config has no %s (see Endpoint)", name)
	case err != nil || u.Host == "":
		return invalidf("OAuth %s %q is not an absolute URL", name, raw)
	case !safeScheme(u):
		return invalidf("OAuth %s %q: use https (plain http only for a loopback host)", name, u.Redacted())
	}
	return nil
}

// tokenError turns a failed token request into the package's errors: an
// RFC 6749 error answer, or any non-2xx answer, becomes an
// [*AuthorizationError], without the response body. Any of secrets that
// the server or a lower layer wrote back is cut out.
func tokenError(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		e := &AuthorizationError{
			Code:        redact(re.ErrorCode, secrets...),
			Description: redact(re.ErrorDescription, secrets...),
			URI:         redact(re.ErrorURI, secrets...),
		}
		if re.Response != nil {
			e.StatusCode = re.Response.StatusCode
		}
		return e
	}
	msg := err.Error()
	if r := redact(msg, secrets...); r != msg {
		return errors.New("blueclerk: token request: " + r)
	}
	return fmt.Errorf("blueclerk: token request: %w", err)
}

// redacted stands where a secret was cut out.
const redacted = "[redacted]"

// redact replaces every secret in s.
func redact(s string, secrets ...string) string {
	for _, v := range secrets {
		if v != "" {
			s = strings.ReplaceAll(s, v, redacted)
		}
	}
	return s
}
