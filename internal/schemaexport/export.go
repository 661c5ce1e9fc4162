package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	tfjson "github.com/hashicorp/terraform-json"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/zclconf/go-cty/cty"
)

// formatVersion is the format_version `terraform providers schema -json`
// prints; tfplugindocs refuses any other.
const formatVersion = "1.0"

// export asks the provider server for every schema it has, the way
// Terraform does at the start of each command, and returns them as
// `terraform providers schema -json` prints them under address.
func export(ctx context.Context, server tfprotov6.ProviderServer, address string) (*tfjson.ProviderSchemas, error) {
	resp, err := server.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		return nil, fmt.Errorf("GetProviderSchema: %w", err)
	}
	if err := diagnosticsError("GetProviderSchema", resp.Diagnostics); err != nil {
		return nil, err
	}
	identities, err := server.GetResourceIdentitySchemas(ctx, &tfprotov6.GetResourceIdentitySchemasRequest{})
	if err != nil {
		return nil, fmt.Errorf("GetResourceIdentitySchemas: %w", err)
	}
	if err := diagnosticsError("GetResourceIdentitySchemas", identities.Diagnostics); err != nil {
		return nil, err
	}

	ps := &tfjson.ProviderSchema{}
	if ps.ConfigSchema, err = convertSchema(resp.Provider); err != nil {
		return nil, fmt.Errorf("provider: %w", err)
	}
	if ps.ResourceSchemas, err = convertSchemas(resp.ResourceSchemas); err != nil {
		return nil, fmt.Errorf("resource %w", err)
	}
	if ps.DataSourceSchemas, err = convertSchemas(resp.DataSourceSchemas); err != nil {
		return nil, fmt.Errorf("data source %w", err)
	}
	if ps.EphemeralResourceSchemas, err = convertSchemas(resp.EphemeralResourceSchemas); err != nil {
		return nil, fmt.Errorf("ephemeral resource %w", err)
	}
	if ps.ListResourceSchemas, err = convertSchemas(resp.ListResourceSchemas); err != nil {
		return nil, fmt.Errorf("list resource %w", err)
	}
	for name, a := range resp.ActionSchemas {
		if ps.ActionSchemas == nil {
			ps.ActionSchemas = map[string]*tfjson.ActionSchema{}
		}
		if a == nil || a.Schema == nil {
			return nil, fmt.Errorf("action %s: no schema", name)
		}
		block, err := convertBlock(a.Schema.Block)
		if err != nil {
			return nil, fmt.Errorf("action %s: %w", name, err)
		}
		ps.ActionSchemas[name] = &tfjson.ActionSchema{Block: block}
	}
	for name, s := range identities.IdentitySchemas {
		if ps.ResourceIdentitySchemas == nil {
			ps.ResourceIdentitySchemas = map[string]*tfjson.IdentitySchema{}
		}
		is, err := convertIdentity(s)
		if err != nil {
			return nil, fmt.Errorf("identity of %s: %w", name, err)
		}
		ps.ResourceIdentitySchemas[name] = is
	}
	if len(resp.Functions) > 0 {
		// Not needed yet; failing beats exporting a schema that omits them.
		return nil, errors.New("the provider has functions, which this exporter does not convert")
	}
	return &tfjson.ProviderSchemas{
		FormatVersion: formatVersion,
		Schemas:       map[string]*tfjson.ProviderSchema{address: ps},
	}, nil
}

// diagnosticsError turns error diagnostics of a schema RPC into an error.
func diagnosticsError(rpc string, diags []*tfprotov6.Diagnostic) error {
	var msgs []string
	for _, d := range diags {
		if d != nil && d.Severity == tfprotov6.DiagnosticSeverityError {
			msgs = append(msgs, strings.TrimSpace(d.Summary+": "+d.Detail))
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	return fmt.Errorf("%s: %s", rpc, strings.Join(msgs, "; "))
}

func convertSchemas(in map[string]*tfprotov6.Schema) (map[string]*tfjson.Schema, error) {
	if len(in) == 0 {
		return nil, nil
	}
	out := make(map[string]*tfjson.Schema, len(in))
	for name, s := range in {
		c, err := convertSchema(s)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out[name] = c
	}
	return out, nil
}

func convertSchema(s *tfprotov6.Schema) (*tfjson.Schema, error) {
	if s == nil {
		return nil, nil
	}
	block, err := convertBlock(s.Block)
	if err != nil {
		return nil, err
	}
	// A negative version is a provider bug; Terraform would reject it too.
	if s.Version < 0 {
		return nil, fmt.Errorf("negative schema version %d", s.Version)
	}
	return &tfjson.Schema{Version: uint64(s.Version), Block: block}, nil
}

func convertBlock(b *tfprotov6.SchemaBlock) (*tfjson.SchemaBlock, error) {
	// Terraform prints an empty block for a schema without one.
	out := &tfjson.SchemaBlock{DescriptionKind: tfjson.SchemaDescriptionKindPlain}
	if b == nil {
		return out, nil
	}
	out.Description = b.Description
	out.DescriptionKind = descriptionKind(b.DescriptionKind)
	out.Deprecated = b.Deprecated
	if len(b.Attributes) > 0 {
		out.Attributes = map[string]*tfjson.SchemaAttribute{}
	}
	for _, a := range b.Attributes {
		attr, err := convertAttribute(a)
		if err != nil {
			return nil, fmt.Errorf("attribute %s: %w", a.Name, err)
		}
		out.Attributes[a.Name] = attr
	}
	if len(b.BlockTypes) > 0 {
		out.NestedBlocks = map[string]*tfjson.SchemaBlockType{}
	}
	for _, nb := range b.BlockTypes {
		inner, err := convertBlock(nb.Block)
		if err != nil {
			return nil, fmt.Errorf("block %s: %w", nb.TypeName, err)
		}
		mode, ok := blockNesting[nb.Nesting]
		if !ok {
			return nil, fmt.Errorf("block %s: unknown nesting mode %v", nb.TypeName, nb.Nesting)
		}
		out.NestedBlocks[nb.TypeName] = &tfjson.SchemaBlockType{
			NestingMode: mode,
			Block:       inner,
			MinItems:    uint64(max(nb.MinItems, 0)),
			MaxItems:    uint64(max(nb.MaxItems, 0)),
		}
	}
	return out, nil
}

func convertAttribute(a *tfprotov6.SchemaAttribute) (*tfjson.SchemaAttribute, error) {
	out := &tfjson.SchemaAttribute{
		Description:     a.Description,
		DescriptionKind: descriptionKind(a.DescriptionKind),
		Deprecated:      a.Deprecated,
		Required:        a.Required,
		Optional:        a.Optional,
		Computed:        a.Computed,
		Sensitive:       a.Sensitive,
		WriteOnly:       a.WriteOnly,
	}
	switch {
	case a.NestedType != nil:
		mode, ok := objectNesting[a.NestedType.Nesting]
		if !ok {
			return nil, fmt.Errorf("unknown nesting mode %v", a.NestedType.Nesting)
		}
		nested := &tfjson.SchemaNestedAttributeType{NestingMode: mode, Attributes: map[string]*tfjson.SchemaAttribute{}}
		for _, inner := range a.NestedType.Attributes {
			c, err := convertAttribute(inner)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", inner.Name, err)
			}
			nested.Attributes[inner.Name] = c
		}
		out.AttributeNestedType = nested
	case a.Type != nil:
		t, err := ctyType(a.Type)
		if err != nil {
			return nil, err
		}
		out.AttributeType = t
	default:
		return nil, errors.New("neither a type nor a nested type")
	}
	return out, nil
}

func convertIdentity(s *tfprotov6.ResourceIdentitySchema) (*tfjson.IdentitySchema, error) {
	if s == nil || s.Version < 0 {
		return nil, errors.New("no schema, or a negative version")
	}
	out := &tfjson.IdentitySchema{Version: uint64(s.Version), Attributes: map[string]*tfjson.IdentityAttribute{}}
	for _, a := range s.IdentityAttributes {
		t, err := ctyType(a.Type)
		if err != nil {
			return nil, fmt.Errorf("attribute %s: %w", a.Name, err)
		}
		out.Attributes[a.Name] = &tfjson.IdentityAttribute{
			IdentityType:      t,
			Description:       a.Description,
			RequiredForImport: a.RequiredForImport,
			OptionalForImport: a.OptionalForImport,
		}
	}
	return out, nil
}

// ctyType converts a type the way it crosses the wire: the protocol carries
// an attribute's type as the JSON type encoding tftypes writes, which
// Terraform reads back as a cty type.
func ctyType(t tftypes.Type) (cty.Type, error) {
	raw, err := json.Marshal(t)
	if err != nil {
		return cty.NilType, fmt.Errorf("encoding type %s: %w", t, err)
	}
	var out cty.Type
	if err := out.UnmarshalJSON(raw); err != nil {
		return cty.NilType, fmt.Errorf("decoding type %s: %w", raw, err)
	}
	return out, nil
}

func descriptionKind(k tfprotov6.StringKind) tfjson.SchemaDescriptionKind {
	if k == tfprotov6.StringKindMarkdown {
		return tfjson.SchemaDescriptionKindMarkdown
	}
	return tfjson.SchemaDescriptionKindPlain
}

var blockNesting = map[tfprotov6.SchemaNestedBlockNestingMode]tfjson.SchemaNestingMode{
	tfprotov6.SchemaNestedBlockNestingModeSingle: tfjson.SchemaNestingModeSingle,
	tfprotov6.SchemaNestedBlockNestingModeGroup:  tfjson.SchemaNestingModeGroup,
	tfprotov6.SchemaNestedBlockNestingModeList:   tfjson.SchemaNestingModeList,
	tfprotov6.SchemaNestedBlockNestingModeSet:    tfjson.SchemaNestingModeSet,
	tfprotov6.SchemaNestedBlockNestingModeMap:    tfjson.SchemaNestingModeMap,
}

var objectNesting = map[tfprotov6.SchemaObjectNestingMode]tfjson.SchemaNestingMode{
	tfprotov6.SchemaObjectNestingModeSingle: tfjson.SchemaNestingModeSingle,
	tfprotov6.SchemaObjectNestingModeList:   tfjson.SchemaNestingModeList,
	tfprotov6.SchemaObjectNestingModeSet:    tfjson.SchemaNestingModeSet,
	tfprotov6.SchemaObjectNestingModeMap:    tfjson.SchemaNestingModeMap,
}
