package provider

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	tfresource "github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/emulator"
)

// The identity is the server's id from the create on, and stays it through
// an import by identity, a rename, a power change and a reboot.
func TestAccServerResource_identity(t *testing.T) {
	env := newTestEnv(t)
	var id int64 // the created server's id, as the API gave it
	sameIdentity := statecheck.ExpectIdentity("vpsorg_server.web", map[string]knownvalue.Check{
		"id": knownvalue.Int64Func(func(v int64) error {
			if v != id {
				return fmt.Errorf("identity id = %d, want %d (the server created in the first step)", v, id)
			}
			return nil
		}),
	})
	verify := newImportVerify("vpsorg_server.web", "timeouts", "reboot_trigger")
	tfresource.ParallelTest(t, tfresource.TestCase{
		TerraformVersionChecks:   featureIdentity.versionChecks(),
		ProtoV6ProviderFactories: env.factories(),
		CheckDestroy:             env.checkDestroyed,
		Steps: []tfresource.TestStep{
			{
				Config: env.config(env.serverConfig("ident", catalog.plans[0], `  power_state = "running"`)),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectIdentity("vpsorg_server.web", map[string]knownvalue.Check{
						"id": knownvalue.Int64Func(func(v int64) error {
							id = env.serverNamed("ident").ID
							if v != id {
								return fmt.Errorf("identity id = %d, want the id of the server the API lists, %d", v, id)
							}
							return nil
						}),
					}),
					verify.record(),
				},
			},
			{
				// An import block with identity = { id = ... }: the import
				// plans no change, keeps the identity, and reads the server
				// as it was created.
				ResourceName:    "vpsorg_server.web",
				ImportState:     true,
				ImportStateKind: tfresource.ImportBlockWithResourceIdentity,
				ImportPlanChecks: tfresource.ImportPlanChecks{
					PreApply: []plancheck.PlanCheck{verify.check()},
				},
			},
			{
				Config: env.config(env.serverConfig("ident-renamed", catalog.plans[0], `  power_state = "running"`)),
				ConfigPlanChecks: tfresource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("vpsorg_server.web", plancheck.ResourceActionUpdate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{sameIdentity},
			},
			{
				Config: env.config(env.serverConfig("ident-renamed", catalog.plans[0], `  power_state = "stopped"`)),
				ConfigPlanChecks: tfresource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("vpsorg_server.web", plancheck.ResourceActionUpdate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					sameIdentity,
					statecheck.ExpectKnownValue("vpsorg_server.web", tfjsonpath.New("status"), knownvalue.StringExact("stopped")),
				},
				Check: env.expectStatus("ident-renamed", "stopped"),
			},
			{
				Config: env.config(env.serverConfig("ident-renamed", catalog.plans[0], `  power_state    = "running"
  reboot_trigger = "v1"`)),
				ConfigStateChecks: []statecheck.StateCheck{sameIdentity},
			},
			{
				Config: env.config(env.serverConfig("ident-renamed", catalog.plans[0], `  power_state    = "running"
  reboot_trigger = "v2"`)),
				ConfigStateChecks: []statecheck.StateCheck{
					sameIdentity,
					statecheck.ExpectKnownValue("vpsorg_server.web", tfjsonpath.New("status"), knownvalue.StringExact("active")),
				},
				Check: tfresource.ComposeTestCheckFunc(
					env.expectStatus("ident-renamed", "active"),
					env.emulatorCheck("that the reboot was sent once (the emulator's request log)", func(*emulator.Emulator) error {
						if n := env.sent(requests{route: routeReboot}); n != 1 {
							return fmt.Errorf("reboot calls = %d, want 1", n)
						}
						return nil
					}),
				),
			},
		},
	})
}

// An import by the string id (the `terraform import` command) records the
// identity too.
func TestAccServerResource_importByStringIDRecordsIdentity(t *testing.T) {
	env := newTestEnv(t)
	id := env.seedServers(serverSpec{name: "by-string"})[0].ID
	tfresource.ParallelTest(t, tfresource.TestCase{
		TerraformVersionChecks:   featureIdentity.versionChecks(),
		ProtoV6ProviderFactories: env.factories(),
		Steps: []tfresource.TestStep{
			{
				Config:             env.config(env.serverConfig("by-string", catalog.plans[0], "")),
				ResourceName:       "vpsorg_server.web",
				ImportState:        true,
				ImportStateId:      fmt.Sprint(id),
				ImportStatePersist: true,
			},
			{
				Config: env.config(env.serverConfig("by-string", catalog.plans[0], "")),
				ConfigPlanChecks: tfresource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectIdentity("vpsorg_server.web", map[string]knownvalue.Check{"id": knownvalue.Int64Exact(id)}),
				},
			},
		},
	})
}

// State written by a provider release without identity (v0.x, before this
// change) upgrades on the first refresh: the identity appears, the plan
// stays empty.
func TestAccServerResource_stateWithoutIdentityUpgrades(t *testing.T) {
	env := newTestEnv(t)
	released := map[string]func() (tfprotov6.ProviderServer, error){
		"vpsorg": providerserver.NewProtocol6WithError(withoutIdentity{&vpsorgProvider{version: "test", tune: fastPolling}}),
	}
	config := env.config(env.serverConfig("upgraded", catalog.plans[0], `  hostname = "up.example.com"`))
	tfresource.ParallelTest(t, tfresource.TestCase{
		TerraformVersionChecks: featureIdentity.versionChecks(),
		CheckDestroy:           env.checkDestroyed,
		Steps: []tfresource.TestStep{
			{
				ProtoV6ProviderFactories: released,
				Config:                   config,
				ConfigStateChecks:        []statecheck.StateCheck{expectNoIdentity("vpsorg_server.web")},
			},
			{
				ProtoV6ProviderFactories: env.factories(),
				Config:                   config,
				ConfigPlanChecks: tfresource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectIdentity("vpsorg_server.web", map[string]knownvalue.Check{
						"id": knownvalue.Int64Func(func(v int64) error {
							if want := env.serverNamed("upgraded").ID; v != want {
								return fmt.Errorf("identity id = %d, want %d", v, want)
							}
							return nil
						}),
					}),
				},
			},
		},
	})
}

// A server deleted outside Terraform whose state has no identity yet is
// planned for creation, like any deleted server: the framework wants an
// identity even from a Read that removes the resource.
func TestAccServerResource_stateWithoutIdentityOfADeletedServer(t *testing.T) {
	env := newTestEnv(t)
	released := map[string]func() (tfprotov6.ProviderServer, error){
		"vpsorg": providerserver.NewProtocol6WithError(withoutIdentity{&vpsorgProvider{version: "test", tune: fastPolling}}),
	}
	config := env.config(env.serverConfig("vanishing", catalog.plans[0], ""))
	tfresource.ParallelTest(t, tfresource.TestCase{
		TerraformVersionChecks: featureIdentity.versionChecks(),
		CheckDestroy:           env.checkDestroyed,
		Steps: []tfresource.TestStep{
			{ProtoV6ProviderFactories: released, Config: config},
			{
				PreConfig:                func() { env.deleteOutOfBand("vanishing") },
				ProtoV6ProviderFactories: env.factories(),
				Config:                   config,
				ConfigPlanChecks: tfresource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("vpsorg_server.web", plancheck.ResourceActionCreate)},
				},
			},
		},
	})
}

// withoutIdentity serves the provider as released before identity: the
// same resource, without its identity schema.
type withoutIdentity struct{ provider.Provider }

func (p withoutIdentity) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{func() resource.Resource { return serverWithoutIdentity{&serverResource{}} }}
}

type serverWithoutIdentity struct{ r *serverResource }

func (s serverWithoutIdentity) Metadata(ctx context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	s.r.Metadata(ctx, req, resp)
}

func (s serverWithoutIdentity) Schema(ctx context.Context, req resource.SchemaRequest, resp *resource.SchemaResponse) {
	s.r.Schema(ctx, req, resp)
}

func (s serverWithoutIdentity) Configure(ctx context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	s.r.Configure(ctx, req, resp)
}

func (s serverWithoutIdentity) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	s.r.Create(ctx, req, resp)
}

func (s serverWithoutIdentity) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	s.r.Read(ctx, req, resp)
}

func (s serverWithoutIdentity) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	s.r.Update(ctx, req, resp)
}

func (s serverWithoutIdentity) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	s.r.Delete(ctx, req, resp)
}

// expectNoIdentity checks that a resource has no identity in state.
func expectNoIdentity(address string) statecheck.StateCheck { return noIdentityCheck(address) }

type noIdentityCheck string

func (c noIdentityCheck) CheckState(_ context.Context, req statecheck.CheckStateRequest, resp *statecheck.CheckStateResponse) {
	for _, r := range req.State.Values.RootModule.Resources {
		if r.Address == string(c) && len(r.IdentityValues) != 0 {
			resp.Error = fmt.Errorf("%s has identity %v, want none", c, r.IdentityValues)
		}
	}
}

// importVerify is ImportStateVerify for import blocks, which
// terraform-plugin-testing refuses there ("ImportStateVerify is not
// supported with plannable import blocks"): record() keeps the resource's
// state after an apply, check() compares an import's planned values with
// it, attribute by attribute, except the ignored ones (those that only
// configuration sets).
type importVerify struct {
	address string
	ignore  map[string]bool
	state   map[string]any
}

func newImportVerify(address string, ignore ...string) *importVerify {
	v := &importVerify{address: address, ignore: map[string]bool{}}
	for _, name := range ignore {
		v.ignore[name] = true
	}
	return v
}

type importVerifyRecord struct{ v *importVerify }

func (v *importVerify) record() statecheck.StateCheck { return importVerifyRecord{v} }

func (r importVerifyRecord) CheckState(_ context.Context, req statecheck.CheckStateRequest, resp *statecheck.CheckStateResponse) {
	for _, res := range req.State.Values.RootModule.Resources {
		if res.Address == r.v.address {
			r.v.state = res.AttributeValues
			return
		}
	}
	resp.Error = fmt.Errorf("%s is not in state", r.v.address)
}

type importVerifyCheck struct{ v *importVerify }

func (v *importVerify) check() plancheck.PlanCheck { return importVerifyCheck{v} }

func (c importVerifyCheck) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	for _, rc := range req.Plan.ResourceChanges {
		if rc.Address != c.v.address {
			continue
		}
		if rc.Change.Importing == nil {
			resp.Error = fmt.Errorf("%s is not being imported", c.v.address)
			return
		}
		after, _ := rc.Change.After.(map[string]any)
		var diffs []string
		for name, want := range c.v.state {
			if c.v.ignore[name] {
				continue
			}
			if got := after[name]; !reflect.DeepEqual(got, want) {
				diffs = append(diffs, fmt.Sprintf("%s: imported %v, created %v", name, got, want))
			}
		}
		if len(diffs) > 0 {
			resp.Error = fmt.Errorf("the import differs from the created server:\n%v", diffs)
		}
		return
	}
	resp.Error = fmt.Errorf("the plan has no change for %s", c.v.address)
}
