package provider

import (
	"context"
	"fmt"
	"time"

	actiontimeouts "github.com/hashicorp/terraform-plugin-framework-timeouts/action/timeouts"
	dstimeouts "github.com/hashicorp/terraform-plugin-framework-timeouts/datasource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	actionschema "github.com/hashicorp/terraform-plugin-framework/action/schema"
	dsschema "github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	resourceschema "github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
)

// Every `timeouts` is a block, `timeouts { create = "30m" }`, as in the
// large providers, and not the nested attribute the timeouts package also
// offers: Terraform drops the unknown keys of an object-typed attribute, so
// `timeouts = { creat = "30m" }` would pass validate and silently keep the
// default, where a block rejects the misspelt argument at validate.

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
	resp.Diagnostics.AddAttributeError(req.Path, "Invalid timeout",
		fmt.Sprintf("%s = %q is not %s.", req.Path, raw, v.Description(ctx)))
}

// withDurationValidator sets timeoutDuration on every string attribute of a
// timeouts block, in place of the package's own (which accepts "0s" and
// says less).
func withDurationValidator[A any](attrs map[string]A, set func(A) (A, bool)) {
	for name, a := range attrs {
		if s, ok := set(a); ok {
			attrs[name] = s
		}
	}
}

// resourceTimeoutsBlock is vpsorg_server's timeouts block.
func resourceTimeoutsBlock(ctx context.Context, opts timeouts.Opts) resourceschema.Block {
	b := timeouts.Block(ctx, opts)
	block, ok := b.(resourceschema.SingleNestedBlock)
	if !ok {
		return b // a timeouts package of another shape: its own validators stay
	}
	withDurationValidator(block.Attributes, func(a resourceschema.Attribute) (resourceschema.Attribute, bool) {
		s, ok := a.(resourceschema.StringAttribute)
		s.Validators = []validator.String{timeoutDuration{}}
		return s, ok
	})
	block.MarkdownDescription = "How long each operation may take, such as `create = \"30m\"`."
	return block
}

// dataSourceTimeoutsBlock is the timeouts block of both data sources.
func dataSourceTimeoutsBlock(ctx context.Context) dsschema.Block {
	b := dstimeouts.BlockWithOpts(ctx, dstimeouts.Opts{
		ReadDescription: "How long the read may take, every page of the list included, " +
			`as a Go duration such as "30s" or "2m". Default 5m.`,
	})
	block, ok := b.(dsschema.SingleNestedBlock)
	if !ok {
		return b
	}
	withDurationValidator(block.Attributes, func(a dsschema.Attribute) (dsschema.Attribute, bool) {
		s, ok := a.(dsschema.StringAttribute)
		s.Validators = []validator.String{timeoutDuration{}}
		return s, ok
	})
	block.MarkdownDescription = "How long the read may take, such as `read = \"2m\"`."
	return block
}

// actionTimeoutsBlock is the timeouts block of the power actions.
func actionTimeoutsBlock(ctx context.Context) actionschema.Block {
	b := actiontimeouts.BlockWithOpts(ctx, actiontimeouts.Opts{
		InvokeDescription: "How long the action may take, from sending the request to the server reaching " +
			"the status it leads to. Default `10m`.",
	})
	block, ok := b.(actionschema.SingleNestedBlock)
	if !ok {
		return b
	}
	withDurationValidator(block.Attributes, func(a actionschema.Attribute) (actionschema.Attribute, bool) {
		s, ok := a.(actionschema.StringAttribute)
		s.Validators = []validator.String{timeoutDuration{}}
		return s, ok
	})
	block.MarkdownDescription = "How long the action may take, such as `invoke = \"15m\"`."
	return block
}
