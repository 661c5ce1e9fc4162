package provider

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/vpsorg"
)

// The provider checks its endpoint and token once, when it is configured:
// without the check, a refused token is one identical 401 per resource (a
// hundred servers, a hundred errors), none naming where the token came from.

// credentialsCheckTimeout bounds the check, 429s and retries included.
const credentialsCheckTimeout = 2 * time.Minute

// skipCheckAdvice says how to plan without the check.
const skipCheckAdvice = "The provider checks the endpoint and token once, when it is configured. To plan without " +
	"reaching the API, set skip_credentials_validation = true in the provider block or " + envSkipCheck + "=true."

// setting is where one provider setting's value came from.
type setting struct {
	// from says it in words, for messages.
	from string
	// path is the attribute's path when the value came from configuration;
	// empty when it came from the environment or a default, which have no
	// line in the configuration to point at.
	path path.Path
}

// settings says where the endpoint and the token came from.
type settings struct{ endpoint, token setting }

func settingsFrom(config vpsorgProviderModel) settings {
	var s settings
	switch {
	case config.Endpoint.ValueString() != "":
		s.endpoint = setting{from: "the endpoint argument of the provider block (which takes precedence over " +
			envEndpoint + ")", path: path.Root("endpoint")}
	case os.Getenv(envEndpoint) != "":
		s.endpoint = setting{from: "the " + envEndpoint + " environment variable"}
	default:
		s.endpoint = setting{from: "the default (no endpoint argument, and " + envEndpoint + " unset)"}
	}
	if strings.TrimSpace(config.APIToken.ValueString()) != "" {
		// No path: Terraform would quote the configuration line, token and all.
		s.token = setting{from: "the api_token argument of the provider block (which takes precedence over " +
			envToken + ")"}
	} else {
		s.token = setting{from: "the " + envToken + " environment variable"}
	}
	return s
}

// skipCredentialsCheck is skip_credentials_validation, or else the
// environment variable's value, or false. A bad environment value is an
// error on the attribute it stands for.
func skipCredentialsCheck(v types.Bool, diags *diag.Diagnostics) (skip, ok bool) {
	if !v.IsNull() && !v.IsUnknown() {
		return v.ValueBool(), true
	}
	raw := strings.TrimSpace(os.Getenv(envSkipCheck))
	if raw == "" {
		return false, true
	}
	skip, err := strconv.ParseBool(raw)
	if err != nil {
		diags.AddAttributeError(path.Root("skip_credentials_validation"), "Invalid "+envSkipCheck,
			fmt.Sprintf("The %s environment variable is %q; it must be true or false.", envSkipCheck, raw))
		return false, false
	}
	return skip, true
}

// checkCredentials reads the first page of the server list and reports a
// refusal once, naming the setting to fix and where its value came from.
func checkCredentials(ctx context.Context, client *vpsorg.Client, s settings, diags *diag.Diagnostics) {
	ctx, cancel := context.WithTimeout(ctx, credentialsCheckTimeout)
	defer cancel()
	err := client.CheckAccess(ctx)
	if err == nil {
		return
	}
	var apiErr *vpsorg.APIError
	if !errors.As(err, &apiErr) {
		addError(diags, "Unable to reach the VPS.org API at "+client.Endpoint(), fmt.Errorf("%w; %s", err, skipCheckAdvice), nil)
		return
	}
	if apiErr.StatusCode == 0 {
		if advice := noAnswerAdvice(err, s.endpoint.from, true); advice != "" {
			addSettingError(diags, s.endpoint, "Unable to reach the VPS.org API at "+client.Endpoint(),
				fmt.Sprintf("%s: %s.\n\n%s\n\n%s", noAnswer(apiErr), apiErr.Err, advice, skipCheckAdvice))
			return
		}
	}
	answered := fmt.Sprintf("The endpoint %s answered %s %s with HTTP %d %s", client.Endpoint(),
		apiErr.Method, apiErr.Path, apiErr.StatusCode, http.StatusText(apiErr.StatusCode))
	if apiErr.Message != "" {
		answered += ": " + strings.TrimSuffix(apiErr.Message, ".")
	}
	answered += "."
	switch apiErr.StatusCode {
	case http.StatusUnauthorized, http.StatusForbidden:
		addSettingError(diags, s.token, "VPS.org API token refused", fmt.Sprintf("%s\n\nThe API token came from %s; "+
			"check that it is a current token of the account at this endpoint (the endpoint came from %s).\n\n%s",
			answered, s.token.from, s.endpoint.from, skipCheckAdvice))
	case http.StatusNotFound:
		addSettingError(diags, s.endpoint, "Wrong VPS.org API endpoint", answered+"\n\n"+wrongEndpointHint(s.endpoint.from))
	default:
		addError(diags, "Unable to check the VPS.org API settings at "+client.Endpoint(), fmt.Errorf("%w; %s", err, skipCheckAdvice), nil)
	}
}

// addSettingError puts an error on the setting's attribute when it was
// configured there, else on the provider block.
func addSettingError(diags *diag.Diagnostics, s setting, summary, detail string) {
	if len(s.path.Steps()) == 0 {
		diags.AddError(summary, detail)
		return
	}
	diags.AddAttributeError(s.path, summary, detail)
}
