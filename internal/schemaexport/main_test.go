package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	tfjson "github.com/hashicorp/terraform-json"
	"github.com/zclconf/go-cty/cty"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/provider"
)

const unreleased = "## 0.2.0 (Unreleased)\n\nFEATURES:\n\n* something\n"

func TestRun_currentFilesPass(t *testing.T) {
	dir := exported(t)
	out, err := runGate(t, dir, unreleased, false)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(out, "no breaking changes") {
		t.Errorf("output: %s", out)
	}
}

// The committed schema has an attribute the provider no longer has: the
// gate names it and fails, until the CHANGELOG's unreleased section names
// it; -write then records the new schema.
func TestRun_unnamedBreakFailsNamingIt(t *testing.T) {
	dir := exported(t)
	editSchema(t, dir, func(ps *tfjson.ProviderSchema) {
		ps.ResourceSchemas["vpsorg_server"].Block.Attributes["legacy"] = &tfjson.SchemaAttribute{AttributeType: cty.String, Optional: true}
	})

	out, err := runGate(t, dir, unreleased, true)
	if err == nil {
		t.Fatalf("the gate passed a removed attribute:\n%s", out)
	}
	if !strings.Contains(out, "BREAKING CHANGE not named in") || !strings.Contains(out, "vpsorg_server.legacy: attribute removed") {
		t.Errorf("output does not name the break:\n%s", out)
	}
	if !strings.Contains(err.Error(), "`vpsorg_server.legacy`") {
		t.Errorf("error does not say how to name it: %v", err)
	}

	named := unreleased + "\nBREAKING CHANGES:\n\n* `vpsorg_server.legacy` is gone: remove it from configurations.\n"
	out, err = runGate(t, dir, named, true)
	if err != nil {
		t.Fatalf("the gate refused a named break: %v\n%s", err, out)
	}
	if !strings.Contains(out, "breaking change, named in") {
		t.Errorf("output: %s", out)
	}
	if out, err := runGate(t, dir, unreleased, false); err != nil {
		t.Errorf("after -write the files should be current: %v\n%s", err, out)
	}
}

// A compatible change passes the gate, but a committed file that no longer
// matches the provider fails the check without -write.
func TestRun_compatibleChangeLeavesTheFileStale(t *testing.T) {
	dir := exported(t)
	editSchema(t, dir, func(ps *tfjson.ProviderSchema) {
		delete(ps.ResourceSchemas["vpsorg_server"].Block.Attributes, "hostname") // the provider "adds" it
	})
	out, err := runGate(t, dir, unreleased, false)
	if err == nil || !strings.Contains(err.Error(), "run make generate") {
		t.Fatalf("want a stale-file error, got %v\n%s", err, out)
	}
	if strings.Contains(out, "BREAKING") {
		t.Errorf("an added optional attribute was reported as a break:\n%s", out)
	}
}

func exported(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := runGate(t, dir, unreleased, true); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return dir
}

func runGate(t *testing.T, dir, changelog string, write bool) (string, error) {
	t.Helper()
	notes := filepath.Join(t.TempDir(), "CHANGELOG.md")
	if err := os.WriteFile(notes, []byte(changelog), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err := run(context.Background(), &out, dir, dir, notes, write)
	return out.String(), err
}

func editSchema(t *testing.T, dir string, edit func(*tfjson.ProviderSchema)) {
	t.Helper()
	path := filepath.Join(dir, schemaFile)
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var s tfjson.ProviderSchemas
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatal(err)
	}
	edit(s.Schemas[provider.Address])
	if raw, err = json.Marshal(&s); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
}
