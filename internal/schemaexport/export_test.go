package main

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	tfjson "github.com/hashicorp/terraform-json"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/provider"
)

// Each protocol schema element becomes the JSON Terraform prints for it.
func TestConvertBlock_printsWhatTerraformPrints(t *testing.T) {
	tests := map[string]struct {
		in   *tfprotov6.SchemaBlock
		want string
	}{
		"no block: an empty one, plain": {
			in:   nil,
			want: `{"description_kind":"plain"}`,
		},
		"markdown description, deprecated block": {
			in:   &tfprotov6.SchemaBlock{Description: "`x`", DescriptionKind: tfprotov6.StringKindMarkdown, Deprecated: true},
			want: `{"description":"` + "`x`" + `","description_kind":"markdown","deprecated":true}`,
		},
		"primitive attributes keep every flag": {
			in: &tfprotov6.SchemaBlock{Attributes: []*tfprotov6.SchemaAttribute{
				{Name: "token", Type: tftypes.String, Optional: true, Sensitive: true, Description: "t"},
				{Name: "n", Type: tftypes.Number, Required: true, Deprecated: true},
				{Name: "b", Type: tftypes.Bool, Computed: true, Optional: true, WriteOnly: true},
			}},
			want: `{"attributes":{
				"b":{"type":"bool","description_kind":"plain","optional":true,"computed":true,"write_only":true},
				"n":{"type":"number","description_kind":"plain","deprecated":true,"required":true},
				"token":{"type":"string","description":"t","description_kind":"plain","optional":true,"sensitive":true}},
				"description_kind":"plain"}`,
		},
		"collection and object types in cty's JSON encoding": {
			in: &tfprotov6.SchemaBlock{Attributes: []*tfprotov6.SchemaAttribute{
				{Name: "l", Type: tftypes.List{ElementType: tftypes.String}, Computed: true},
				{Name: "s", Type: tftypes.Set{ElementType: tftypes.Number}, Computed: true},
				{Name: "m", Type: tftypes.Map{ElementType: tftypes.Bool}, Computed: true},
				{Name: "o", Type: tftypes.Object{
					AttributeTypes:     map[string]tftypes.Type{"a": tftypes.String, "b": tftypes.List{ElementType: tftypes.Number}},
					OptionalAttributes: map[string]struct{}{"b": {}},
				}, Computed: true},
				{Name: "d", Type: tftypes.DynamicPseudoType, Computed: true},
			}},
			want: `{"attributes":{
				"d":{"type":"dynamic","description_kind":"plain","computed":true},
				"l":{"type":["list","string"],"description_kind":"plain","computed":true},
				"m":{"type":["map","bool"],"description_kind":"plain","computed":true},
				"o":{"type":["object",{"a":"string","b":["list","number"]},["b"]],"description_kind":"plain","computed":true},
				"s":{"type":["set","number"],"description_kind":"plain","computed":true}},
				"description_kind":"plain"}`,
		},
		"nested attributes: nested_type, no type": {
			in: &tfprotov6.SchemaBlock{Attributes: []*tfprotov6.SchemaAttribute{
				{Name: "timeouts", Optional: true, NestedType: &tfprotov6.SchemaObject{
					Nesting: tfprotov6.SchemaObjectNestingModeSingle,
					Attributes: []*tfprotov6.SchemaAttribute{
						{Name: "create", Type: tftypes.String, Optional: true, Description: "c", DescriptionKind: tfprotov6.StringKindMarkdown},
					},
				}},
				{Name: "disks", Computed: true, NestedType: &tfprotov6.SchemaObject{
					Nesting:    tfprotov6.SchemaObjectNestingModeList,
					Attributes: []*tfprotov6.SchemaAttribute{{Name: "size", Type: tftypes.Number, Computed: true}},
				}},
			}},
			want: `{"attributes":{
				"disks":{"nested_type":{"attributes":{"size":{"type":"number","description_kind":"plain","computed":true}},"nesting_mode":"list"},"description_kind":"plain","computed":true},
				"timeouts":{"nested_type":{"attributes":{"create":{"type":"string","description":"c","description_kind":"markdown","optional":true}},"nesting_mode":"single"},"description_kind":"plain","optional":true}},
				"description_kind":"plain"}`,
		},
		"blocks keep nesting and item limits": {
			in: &tfprotov6.SchemaBlock{BlockTypes: []*tfprotov6.SchemaNestedBlock{
				{TypeName: "timeouts", Nesting: tfprotov6.SchemaNestedBlockNestingModeSingle, Block: &tfprotov6.SchemaBlock{
					Attributes: []*tfprotov6.SchemaAttribute{{Name: "create", Type: tftypes.String, Optional: true}},
				}},
				{TypeName: "rule", Nesting: tfprotov6.SchemaNestedBlockNestingModeList, MinItems: 1, MaxItems: 3},
				{TypeName: "g", Nesting: tfprotov6.SchemaNestedBlockNestingModeGroup},
				{TypeName: "s", Nesting: tfprotov6.SchemaNestedBlockNestingModeSet},
				{TypeName: "m", Nesting: tfprotov6.SchemaNestedBlockNestingModeMap},
			}},
			want: `{"block_types":{
				"g":{"nesting_mode":"group","block":{"description_kind":"plain"}},
				"m":{"nesting_mode":"map","block":{"description_kind":"plain"}},
				"rule":{"nesting_mode":"list","block":{"description_kind":"plain"},"min_items":1,"max_items":3},
				"s":{"nesting_mode":"set","block":{"description_kind":"plain"}},
				"timeouts":{"nesting_mode":"single","block":{"attributes":{"create":{"type":"string","description_kind":"plain","optional":true}},"description_kind":"plain"}}},
				"description_kind":"plain"}`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := convertBlock(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			assertSameJSON(t, got, tc.want)
		})
	}
}

func TestConvertBlock_refusesWhatItCannotPrint(t *testing.T) {
	tests := map[string]*tfprotov6.SchemaBlock{
		"attribute without a type": {Attributes: []*tfprotov6.SchemaAttribute{{Name: "x", Optional: true}}},
		"unknown block nesting":    {BlockTypes: []*tfprotov6.SchemaNestedBlock{{TypeName: "b", Nesting: 42}}},
		"unknown attribute nesting": {Attributes: []*tfprotov6.SchemaAttribute{
			{Name: "x", Optional: true, NestedType: &tfprotov6.SchemaObject{Nesting: 42}},
		}},
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			if got, err := convertBlock(in); err == nil {
				t.Fatalf("converted to %+v, want an error", got)
			}
		})
	}
}

// The provider's own export has every kind of schema tfplugindocs renders,
// under the address Terraform prints, and reads back as terraform-json
// reads Terraform's output (which checks format_version).
func TestExport_provider(t *testing.T) {
	raw, err := marshal(exportProvider(t))
	if err != nil {
		t.Fatal(err)
	}
	var back tfjson.ProviderSchemas
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatalf("terraform-json refuses the export: %v", err)
	}
	ps := back.Schemas[provider.Address]
	if ps == nil {
		t.Fatalf("no schema under %s; keys: %v", provider.Address, sortedKeys(back.Schemas))
	}
	for kind, got := range map[string][]string{
		"resource":      sortedKeys(ps.ResourceSchemas),
		"data source":   sortedKeys(ps.DataSourceSchemas),
		"list resource": sortedKeys(ps.ListResourceSchemas),
		"action":        sortedKeys(ps.ActionSchemas),
		"identity":      sortedKeys(ps.ResourceIdentitySchemas),
	} {
		want := map[string][]string{
			"resource":      {"vpsorg_server"},
			"data source":   {"vpsorg_server", "vpsorg_servers"},
			"list resource": {"vpsorg_server"},
			"action":        {"vpsorg_server_reboot", "vpsorg_server_start", "vpsorg_server_stop"},
			"identity":      {"vpsorg_server"},
		}[kind]
		if !slices.Equal(got, want) {
			t.Errorf("%s schemas: %v, want %v", kind, got, want)
		}
	}
	assertSameJSON(t, ps.ResourceIdentitySchemas["vpsorg_server"],
		`{"version":0,"attributes":{"id":{"type":"number","description":"The server's numeric id, as the API reports it.","required_for_import":true}}}`)
	if a := ps.ConfigSchema.Block.Attributes["api_token"]; a == nil || !a.Sensitive {
		t.Errorf("provider api_token: %+v, want a sensitive attribute", a)
	}

	if raw2, _ := marshal(exportProvider(t)); string(raw2) != string(raw) {
		t.Error("two exports of the same provider differ: the output is not deterministic")
	}
}

// exportProvider exports the schema of the provider in process.
func exportProvider(t *testing.T) *tfjson.ProviderSchemas {
	t.Helper()
	server, err := providerserver.NewProtocol6WithError(provider.New("test")())()
	if err != nil {
		t.Fatal(err)
	}
	schemas, err := export(context.Background(), server, provider.Address)
	if err != nil {
		t.Fatal(err)
	}
	return schemas
}

func assertSameJSON(t *testing.T, got any, want string) {
	t.Helper()
	gotRaw, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	var g, w any
	if err := json.Unmarshal(gotRaw, &g); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad want: %v", err)
	}
	gn, _ := json.Marshal(g)
	wn, _ := json.Marshal(w)
	if string(gn) != string(wn) {
		t.Errorf("got  %s\nwant %s", gn, wn)
	}
}
