package main

import (
	"fmt"
	"strings"
	"testing"

	tfjson "github.com/hashicorp/terraform-json"
	"github.com/zclconf/go-cty/cty"
)

// baseline is a small provider with one of each kind of schema; each call
// returns a fresh copy for a case to change.
func baseline() snapshot {
	str := func(flags string) *tfjson.SchemaAttribute {
		return &tfjson.SchemaAttribute{AttributeType: cty.String,
			Required: flags == "required", Optional: strings.HasPrefix(flags, "optional"), Computed: strings.HasSuffix(flags, "computed")}
	}
	return snapshot{
		Schema: &tfjson.ProviderSchema{
			ConfigSchema: &tfjson.Schema{Block: &tfjson.SchemaBlock{Attributes: map[string]*tfjson.SchemaAttribute{
				"endpoint": str("optional"),
			}}},
			ResourceSchemas: map[string]*tfjson.Schema{"vpsorg_server": {Block: &tfjson.SchemaBlock{
				Attributes: map[string]*tfjson.SchemaAttribute{
					"id":       str("computed"),
					"name":     str("required"),
					"hostname": str("optional computed"),
					"note":     str("optional"),
					"timeouts": {Optional: true, AttributeNestedType: &tfjson.SchemaNestedAttributeType{
						NestingMode: tfjson.SchemaNestingModeSingle,
						Attributes:  map[string]*tfjson.SchemaAttribute{"create": str("optional")},
					}},
				},
				NestedBlocks: map[string]*tfjson.SchemaBlockType{"rule": {
					NestingMode: tfjson.SchemaNestingModeList,
					Block:       &tfjson.SchemaBlock{Attributes: map[string]*tfjson.SchemaAttribute{"port": str("optional")}},
				}},
			}}},
			DataSourceSchemas: map[string]*tfjson.Schema{"vpsorg_servers": {Block: &tfjson.SchemaBlock{
				Attributes: map[string]*tfjson.SchemaAttribute{"location": str("optional")},
			}}},
			ListResourceSchemas: map[string]*tfjson.Schema{"vpsorg_server": {Block: &tfjson.SchemaBlock{
				Attributes: map[string]*tfjson.SchemaAttribute{"status": str("optional")},
			}}},
			ActionSchemas: map[string]*tfjson.ActionSchema{"vpsorg_server_reboot": {Block: &tfjson.SchemaBlock{
				Attributes: map[string]*tfjson.SchemaAttribute{"server_id": str("required")},
			}}},
			ResourceIdentitySchemas: map[string]*tfjson.IdentitySchema{"vpsorg_server": {
				Attributes: map[string]*tfjson.IdentityAttribute{"id": {IdentityType: cty.Number, RequiredForImport: true}},
			}},
		},
		RequiresReplace: map[string][]string{"vpsorg_server": {"name"}},
	}
}

func TestCompare(t *testing.T) {
	server := func(s snapshot) *tfjson.SchemaBlock { return s.Schema.ResourceSchemas["vpsorg_server"].Block }
	tests := map[string]struct {
		change func(s *snapshot)
		want   []string // "path: what"; none for a compatible change
	}{
		"no change": {change: func(*snapshot) {}},
		"new optional attribute": {change: func(s *snapshot) {
			server(*s).Attributes["tags"] = &tfjson.SchemaAttribute{AttributeType: cty.String, Optional: true}
		}},
		"new computed attribute": {change: func(s *snapshot) {
			server(*s).Attributes["ip"] = &tfjson.SchemaAttribute{AttributeType: cty.String, Computed: true}
		}},
		"new resource, with a replace-forcing attribute": {change: func(s *snapshot) {
			s.Schema.ResourceSchemas["vpsorg_volume"] = &tfjson.Schema{Block: &tfjson.SchemaBlock{}}
			s.RequiresReplace["vpsorg_volume"] = []string{"size"}
		}},
		"required attribute becomes optional": {change: func(s *snapshot) {
			server(*s).Attributes["name"].Required, server(*s).Attributes["name"].Optional = false, true
		}},
		"description, sensitivity and deprecation change": {change: func(s *snapshot) {
			a := server(*s).Attributes["note"]
			a.Description, a.Sensitive, a.Deprecated = "new words", true, true
		}},
		"attribute no longer forces replacement": {change: func(s *snapshot) { s.RequiresReplace["vpsorg_server"] = nil }},
		"new optional block": {change: func(s *snapshot) {
			server(*s).NestedBlocks["disk"] = &tfjson.SchemaBlockType{NestingMode: tfjson.SchemaNestingModeList}
		}},

		"attribute removed": {
			change: func(s *snapshot) { delete(server(*s).Attributes, "hostname") },
			want:   []string{"vpsorg_server.hostname: attribute removed"},
		},
		"attribute retyped": {
			change: func(s *snapshot) { server(*s).Attributes["note"].AttributeType = cty.Number },
			want:   []string{"vpsorg_server.note: type changed from string to number"},
		},
		"attribute becomes nested attributes": {
			change: func(s *snapshot) {
				server(*s).Attributes["note"] = &tfjson.SchemaAttribute{Optional: true, AttributeNestedType: &tfjson.SchemaNestedAttributeType{NestingMode: tfjson.SchemaNestingModeList}}
			},
			want: []string{"vpsorg_server.note: type changed from string to nested attributes (list)"},
		},
		"nested attributes change nesting": {
			change: func(s *snapshot) {
				server(*s).Attributes["timeouts"].AttributeNestedType.NestingMode = tfjson.SchemaNestingModeList
			},
			want: []string{"vpsorg_server.timeouts: type changed from nested attributes (single) to nested attributes (list)"},
		},
		"nested attribute removed": {
			change: func(s *snapshot) { delete(server(*s).Attributes["timeouts"].AttributeNestedType.Attributes, "create") },
			want:   []string{"vpsorg_server.timeouts.create: attribute removed"},
		},
		"optional becomes required": {
			change: func(s *snapshot) {
				server(*s).Attributes["note"].Optional, server(*s).Attributes["note"].Required = false, true
			},
			want: []string{"vpsorg_server.note: optional attribute became required"},
		},
		"computed-only becomes required": {
			change: func(s *snapshot) {
				server(*s).Attributes["id"].Computed, server(*s).Attributes["id"].Required = false, true
			},
			want: []string{"vpsorg_server.id: computed-only attribute became required"},
		},
		"optional becomes computed-only": {
			change: func(s *snapshot) {
				server(*s).Attributes["note"].Optional, server(*s).Attributes["note"].Computed = false, true
			},
			want: []string{"vpsorg_server.note: attribute can no longer be set (now computed only)"},
		},
		"new required attribute": {
			change: func(s *snapshot) {
				server(*s).Attributes["zone"] = &tfjson.SchemaAttribute{AttributeType: cty.String, Required: true}
			},
			want: []string{"vpsorg_server.zone: new required attribute"},
		},
		"new required attribute in a block": {
			change: func(s *snapshot) {
				server(*s).NestedBlocks["rule"].Block.Attributes["proto"] = &tfjson.SchemaAttribute{AttributeType: cty.String, Required: true}
			},
			want: []string{"vpsorg_server.rule.proto: new required attribute"},
		},
		"new replace-forcing attribute": {
			change: func(s *snapshot) { s.RequiresReplace["vpsorg_server"] = []string{"name", "timeouts.create"} },
			want:   []string{"vpsorg_server.timeouts.create: a change now replaces the resource (new RequiresReplace)"},
		},
		"block removed": {
			change: func(s *snapshot) { delete(server(*s).NestedBlocks, "rule") },
			want:   []string{"vpsorg_server.rule: block removed"},
		},
		"block nesting changed": {
			change: func(s *snapshot) { server(*s).NestedBlocks["rule"].NestingMode = tfjson.SchemaNestingModeSet },
			want:   []string{"vpsorg_server.rule: block nesting changed from list to set"},
		},
		"block limits tightened": {
			change: func(s *snapshot) {
				server(*s).NestedBlocks["rule"].MinItems, server(*s).NestedBlocks["rule"].MaxItems = 1, 2
			},
			want: []string{
				"vpsorg_server.rule: block now needs at least 1 (was 0)",
				"vpsorg_server.rule: block now allows at most 2 (was no limit)",
			},
		},
		"new required block": {
			change: func(s *snapshot) {
				server(*s).NestedBlocks["disk"] = &tfjson.SchemaBlockType{NestingMode: tfjson.SchemaNestingModeList, MinItems: 1}
			},
			want: []string{"vpsorg_server.disk: new required block"},
		},
		"resource removed (its identity and replace data with it)": {
			change: func(s *snapshot) {
				delete(s.Schema.ResourceSchemas, "vpsorg_server")
				delete(s.Schema.ResourceIdentitySchemas, "vpsorg_server")
			},
			want: []string{"vpsorg_server: resource removed"},
		},
		"data source attribute removed": {
			change: func(s *snapshot) { delete(s.Schema.DataSourceSchemas["vpsorg_servers"].Block.Attributes, "location") },
			want:   []string{"data.vpsorg_servers.location: attribute removed"},
		},
		"data source removed": {
			change: func(s *snapshot) { delete(s.Schema.DataSourceSchemas, "vpsorg_servers") },
			want:   []string{"data.vpsorg_servers: data source removed"},
		},
		"list resource filter retyped": {
			change: func(s *snapshot) {
				s.Schema.ListResourceSchemas["vpsorg_server"].Block.Attributes["status"].AttributeType = cty.List(cty.String)
			},
			want: []string{"list.vpsorg_server.status: type changed from string to list of string"},
		},
		"list resource removed": {
			change: func(s *snapshot) { delete(s.Schema.ListResourceSchemas, "vpsorg_server") },
			want:   []string{"list.vpsorg_server: list resource removed"},
		},
		"action removed": {
			change: func(s *snapshot) { delete(s.Schema.ActionSchemas, "vpsorg_server_reboot") },
			want:   []string{"action.vpsorg_server_reboot: action removed"},
		},
		"action attribute removed": {
			change: func(s *snapshot) {
				delete(s.Schema.ActionSchemas["vpsorg_server_reboot"].Block.Attributes, "server_id")
			},
			want: []string{"action.vpsorg_server_reboot.server_id: attribute removed"},
		},
		"provider attribute removed": {
			change: func(s *snapshot) { delete(s.Schema.ConfigSchema.Block.Attributes, "endpoint") },
			want:   []string{"provider.endpoint: attribute removed"},
		},
		"identity removed": {
			change: func(s *snapshot) { delete(s.Schema.ResourceIdentitySchemas, "vpsorg_server") },
			want:   []string{"identity.vpsorg_server: identity removed"},
		},
		"identity attribute retyped": {
			change: func(s *snapshot) {
				s.Schema.ResourceIdentitySchemas["vpsorg_server"].Attributes["id"].IdentityType = cty.String
			},
			want: []string{"identity.vpsorg_server.id: identity attribute type changed from number to string"},
		},
		"identity attribute added, version bumped": {
			change: func(s *snapshot) {
				is := s.Schema.ResourceIdentitySchemas["vpsorg_server"]
				is.Version = 1
				is.Attributes["region"] = &tfjson.IdentityAttribute{IdentityType: cty.String, OptionalForImport: true}
			},
			want: []string{
				"identity.vpsorg_server: identity version changed from 0 to 1",
				"identity.vpsorg_server.region: new identity attribute",
			},
		},
		"identity attribute no longer required for import": {
			change: func(s *snapshot) {
				a := s.Schema.ResourceIdentitySchemas["vpsorg_server"].Attributes["id"]
				a.RequiredForImport, a.OptionalForImport = false, true
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cur := baseline()
			tc.change(&cur)
			var got []string
			for _, b := range compare(baseline(), cur) {
				got = append(got, b.String())
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("breaks:\n got  %q\n want %q", got, tc.want)
			}
		})
	}
}

// The reverse of the compatible case above is a break: an import that
// left the attribute out stops working.
func TestCompare_identityAttributeBecomesRequiredForImport(t *testing.T) {
	old := baseline()
	old.Schema.ResourceIdentitySchemas["vpsorg_server"].Attributes["id"].RequiredForImport = false
	got := compare(old, baseline())
	if len(got) != 1 || got[0].String() != "identity.vpsorg_server.id: identity attribute became required for import" {
		t.Errorf("got %v", got)
	}
}
