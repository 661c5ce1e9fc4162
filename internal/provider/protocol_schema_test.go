package provider

import (
	"maps"
	"slices"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// schemaAttribute finds a top-level attribute of a schema.
func schemaAttribute(s *tfprotov6.Schema, name string) *tfprotov6.SchemaAttribute {
	for _, a := range s.Block.Attributes {
		if a.Name == name {
			return a
		}
	}
	return nil
}

func attributeNames(attrs []*tfprotov6.SchemaAttribute) []string {
	var names []string
	for _, a := range attrs {
		names = append(names, a.Name)
	}
	slices.Sort(names)
	return names
}

// attributeShape is what a test expects of one schema attribute.
type attributeShape struct {
	name                         string
	typ                          tftypes.Type // nil for a nested attribute
	required, optional, computed bool
	nested                       []string // the attributes of a single block
}

func checkAttributes(t *testing.T, what string, s *tfprotov6.Schema, want []attributeShape) {
	t.Helper()
	var names, blocks []string
	for _, w := range want {
		if w.nested != nil {
			blocks = append(blocks, w.name)
		} else {
			names = append(names, w.name)
		}
	}
	slices.Sort(names)
	if got := attributeNames(s.Block.Attributes); !slices.Equal(got, names) {
		t.Errorf("%s has attributes %q, want %q", what, got, names)
	}
	var gotBlocks []string
	for _, b := range s.Block.BlockTypes {
		gotBlocks = append(gotBlocks, b.TypeName)
	}
	slices.Sort(gotBlocks)
	if slices.Sort(blocks); !slices.Equal(gotBlocks, blocks) {
		t.Errorf("%s has blocks %q, want %q", what, gotBlocks, blocks)
	}
	for _, w := range want {
		if w.nested != nil {
			checkSingleBlock(t, what, s, w)
			continue
		}
		a := schemaAttribute(s, w.name)
		if a == nil {
			continue
		}
		if a.Required != w.required || a.Optional != w.optional || a.Computed != w.computed {
			t.Errorf("%s.%s: required %v, optional %v, computed %v; want %v, %v, %v",
				what, w.name, a.Required, a.Optional, a.Computed, w.required, w.optional, w.computed)
		}
		switch {
		case a.Type == nil || !a.Type.Equal(w.typ):
			t.Errorf("%s.%s has type %v, want %v", what, w.name, a.Type, w.typ)
		case a.Description == "":
			t.Errorf("%s.%s has no description", what, w.name)
		}
	}
}

// checkSingleBlock checks a block that holds optional, described values,
// such as `timeouts`.
func checkSingleBlock(t *testing.T, what string, s *tfprotov6.Schema, w attributeShape) {
	t.Helper()
	for _, b := range s.Block.BlockTypes {
		if b.TypeName != w.name {
			continue
		}
		if b.Nesting != tfprotov6.SchemaNestedBlockNestingModeSingle {
			t.Errorf("%s.%s is not a single block", what, w.name)
		}
		if got := attributeNames(b.Block.Attributes); !slices.Equal(got, w.nested) {
			t.Errorf("%s.%s has attributes %q, want %q", what, w.name, got, w.nested)
		}
		for _, n := range b.Block.Attributes {
			if n.Description == "" || !n.Optional {
				t.Errorf("%s.%s.%s is not optional or has no description", what, w.name, n.Name)
			}
		}
	}
}

// The identity Terraform 1.12 stores beside a server's state, and imports
// by, is the API's integer id: one number, required for an import.
func TestProtocolSchema_identityIsTheAPIsIntegerID(t *testing.T) {
	t.Parallel()
	p := startProtocolServer(t)
	resp, err := p.server.GetResourceIdentitySchemas(t.Context(), &tfprotov6.GetResourceIdentitySchemasRequest{})
	requireNoRPCError(t, "GetResourceIdentitySchemas", err)
	if got := slices.Sorted(maps.Keys(resp.IdentitySchemas)); !slices.Equal(got, []string{serverType}) {
		t.Errorf("identity schemas for %q, want only %s", got, serverType)
	}
	s := resp.IdentitySchemas[serverType]
	if s.Version != 0 {
		t.Errorf("identity schema version %d, want 0", s.Version)
	}
	if len(s.IdentityAttributes) != 1 {
		t.Fatalf("identity has %d attributes, want 1 (id)", len(s.IdentityAttributes))
	}
	id := s.IdentityAttributes[0]
	if id.Name != "id" || !id.Type.Equal(tftypes.Number) || !id.RequiredForImport || id.OptionalForImport || id.Description == "" {
		t.Errorf("identity attribute %+v, want id: a described number, required for import", *id)
	}
}

// The list resource's config block has the API's two filters, both
// optional; the resource it lists is vpsorg_server, with identity.
func TestProtocolSchema_listResourceHasTheAPIsFilters(t *testing.T) {
	t.Parallel()
	p := startProtocolServer(t)
	if got := slices.Sorted(maps.Keys(p.schemas.ListResourceSchemas)); !slices.Equal(got, []string{serverType}) {
		t.Errorf("list resources %q, want only %s", got, serverType)
	}
	if p.schemas.ResourceSchemas[serverType] == nil {
		t.Errorf("the list resource %s has no resource of its name", serverType)
	}
	s := p.schemas.ListResourceSchemas[serverType]
	if s.Block.Description == "" {
		t.Error("the list resource has no description")
	}
	checkAttributes(t, "list "+serverType, s, []attributeShape{
		{name: "status", typ: tftypes.String, optional: true},
		{name: "location", typ: tftypes.String, optional: true},
	})
}

// Each power action takes a server id and an invoke timeout.
func TestProtocolSchema_actionsTakeAServerIDAndATimeout(t *testing.T) {
	t.Parallel()
	p := startProtocolServer(t)
	want := []string{rebootActionType, startActionType, stopActionType}
	if got := slices.Sorted(maps.Keys(p.schemas.ActionSchemas)); !slices.Equal(got, want) {
		t.Errorf("actions %q, want %q", got, want)
	}
	for _, name := range want {
		s := p.schemas.ActionSchemas[name]
		if s == nil || s.Schema == nil {
			continue
		}
		if s.Schema.Block.Description == "" {
			t.Errorf("%s has no description", name)
		}
		checkAttributes(t, name, s.Schema, []attributeShape{
			{name: "server_id", typ: tftypes.String, required: true},
			{name: "timeouts", optional: true, nested: []string{"invoke"}},
		})
	}
}
