package provider

import (
	"context"
	"fmt"
	"time"

	resourceschema "github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
)

// The timeouts package validates each duration on its own path, such as
// timeouts.create. Terraform (1.11 at least) cannot place a diagnostic
// inside an object value, and falls back to the whole resource block; on
// the path of the timeouts attribute it quotes the line that is wrong. So
// the durations are validated here, and reported on that attribute.

// timeoutDuration accepts what time.ParseDuration does, above zero.
type timeoutDuration struct{}

var _ validator.String = timeoutDuration{}

func (timeoutDuration) Description(context.Context) string {
	return `a positive duration: a number and a unit, such as "30s", "15m" or "1h30m" (units ns, us, ms, s, m, h)`
}

func (v timeoutDuration) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (v timeoutDuration) ValidateString(ctx context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	raw := req.ConfigValue.ValueString()
	if d, err := time.ParseDuration(raw); err == nil && d > 0 {
		return
	}
	resp.Diagnostics.AddAttributeError(req.Path.ParentPath(), "Invalid timeout",
		fmt.Sprintf("%s = %q is not %s.", req.Path, raw, v.Description(ctx)))
}

// resourceTimeouts is a resource's timeouts attribute with its durations
// reported on the attribute's own path.
func resourceTimeouts(attr resourceschema.Attribute) resourceschema.Attribute {
	nested, ok := attr.(resourceschema.SingleNestedAttribute)
	if !ok {
		return attr
	}
	for name, a := range nested.Attributes {
		if s, ok := a.(resourceschema.StringAttribute); ok {
			s.Validators = []validator.String{timeoutDuration{}}
			nested.Attributes[name] = s
		}
	}
	return nested
}
