// Command schemaexport exports the provider's full schema (provider
// configuration, resources, data sources, resource identities, list
// resources and actions) as the JSON `terraform providers schema -json`
// prints, from the provider in process: no Terraform CLI is needed, and
// nothing depends on which CLI version reports which kinds of schema.
//
//	go run ./internal/schemaexport -print [-o FILE] [-address ADDR]   # the JSON alone
//	go run ./internal/schemaexport [-dir schema] [-base DIR] [-changelog CHANGELOG.md] [-write]
//
// Without -print it is the schema compatibility gate. It compares the
// provider's schema with the one committed in -base (default -dir):
// vpsorg.json, and requires-replace.json, the replace-forcing attributes
// the JSON cannot show. It fails naming each breaking change that the
// CHANGELOG's unreleased section does not name (see changelog.go). Then,
// with -write, it rewrites the files in -dir (`make generate` does that);
// without, it fails when they are stale.
//
// -address names the provider in the printed JSON. Terraform prints
// registry.terraform.io/vpsorg/vpsorg; tfplugindocs looks the schema up
// only under the provider's short name (or a hashicorp/ address), so
// `make generate` prints with -address vpsorg for it.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	tfjson "github.com/hashicorp/terraform-json"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/provider"
)

const (
	schemaFile  = "vpsorg.json"
	replaceFile = "requires-replace.json"
)

func main() {
	printOnly := flag.Bool("print", false, "print the schema JSON and nothing else")
	out := flag.String("o", "", "with -print, write to this file instead of stdout")
	address := flag.String("address", provider.Address, "with -print, the key of the provider's schema")
	dir := flag.String("dir", "schema", "directory of the committed schema files")
	base := flag.String("base", "", "directory of the schema files to compare with (default: -dir)")
	changelog := flag.String("changelog", "CHANGELOG.md", "the changelog whose unreleased section names breaking changes")
	write := flag.Bool("write", false, "rewrite the files in -dir after the gate passes")
	flag.Parse()
	if *base == "" {
		*base = *dir
	}
	var err error
	if *printOnly {
		err = printSchema(context.Background(), *out, *address)
	} else {
		err = run(context.Background(), os.Stdout, *dir, *base, *changelog, *write)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "schemaexport:", err)
		os.Exit(1)
	}
}

// printSchema writes the schema JSON alone, under address, to out (a file
// name; stdout when empty).
func printSchema(ctx context.Context, out, address string) error {
	server, err := providerserver.NewProtocol6WithError(provider.New("dev")())()
	if err != nil {
		return err
	}
	schemas, err := export(ctx, server, address)
	if err != nil {
		return err
	}
	raw, err := marshal(schemas)
	if err != nil {
		return err
	}
	if out == "" {
		_, err = os.Stdout.Write(raw)
		return err
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	return os.WriteFile(out, raw, 0o644)
}

func run(ctx context.Context, w io.Writer, dir, base, changelog string, write bool) error {
	cur, files, err := current(ctx)
	if err != nil {
		return err
	}

	old, err := readSnapshot(base)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		fmt.Fprintf(w, "schema gate: no %s yet, nothing to compare with\n", filepath.Join(base, schemaFile))
	case err != nil:
		return err
	default:
		notes, err := os.ReadFile(changelog)
		if err != nil {
			return err
		}
		if err := gate(w, compare(old, cur), namedBreaks(string(notes)), base, changelog); err != nil {
			return err
		}
	}

	for _, name := range []string{schemaFile, replaceFile} {
		path := filepath.Join(dir, name)
		if write {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(path, files[name], 0o644); err != nil {
				return err
			}
			continue
		}
		committed, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(committed, files[name]) {
			return fmt.Errorf("%s is not the provider's current schema: run make generate and commit it", path)
		}
	}
	return nil
}

// gate prints the breaking changes and fails when any is not named.
func gate(w io.Writer, breaks []breakingChange, named map[string]bool, base, changelog string) error {
	unnamed := 0
	for _, b := range breaks {
		if named[b.Path] {
			fmt.Fprintf(w, "schema gate: breaking change, named in %s: %s\n", changelog, b)
			continue
		}
		unnamed++
		fmt.Fprintf(w, "schema gate: BREAKING CHANGE not named in %s: %s\n", changelog, b)
	}
	if unnamed > 0 {
		return fmt.Errorf("%d breaking change(s) against %s. If they are meant, name each path in backticks "+
			"under BREAKING CHANGES: in %s's unreleased section, such as\n\nBREAKING CHANGES:\n\n* `%s`: what changed and what users do about it",
			unnamed, filepath.Join(base, schemaFile), changelog, breaks[0].Path)
	}
	if len(breaks) == 0 {
		fmt.Fprintf(w, "schema gate: no breaking changes against %s\n", filepath.Join(base, schemaFile))
	}
	return nil
}

// current exports the schema of the provider in process, with the files
// that hold it, as they are committed.
func current(ctx context.Context) (snapshot, map[string][]byte, error) {
	server, err := providerserver.NewProtocol6WithError(provider.New("dev")())()
	if err != nil {
		return snapshot{}, nil, err
	}
	schemas, err := export(ctx, server, provider.Address)
	if err != nil {
		return snapshot{}, nil, err
	}
	resources, err := server.GetProviderSchema(ctx, nil)
	if err != nil {
		return snapshot{}, nil, err
	}
	replace, err := requiresReplace(ctx, server, resources.ResourceSchemas)
	if err != nil {
		return snapshot{}, nil, fmt.Errorf("finding replace-forcing attributes: %w", err)
	}
	schemaJSON, err := marshal(schemas)
	if err != nil {
		return snapshot{}, nil, err
	}
	replaceJSON, err := marshal(replace)
	if err != nil {
		return snapshot{}, nil, err
	}
	cur := snapshot{Schema: schemas.Schemas[provider.Address], RequiresReplace: replace}
	return cur, map[string][]byte{schemaFile: schemaJSON, replaceFile: replaceJSON}, nil
}

// marshal writes indented JSON with a final newline; encoding/json sorts
// map keys, so the same schema always gives the same bytes.
func marshal(v any) ([]byte, error) {
	out, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

func readSnapshot(dir string) (snapshot, error) {
	raw, err := os.ReadFile(filepath.Join(dir, schemaFile))
	if err != nil {
		return snapshot{}, err
	}
	var schemas tfjson.ProviderSchemas
	if err := json.Unmarshal(raw, &schemas); err != nil {
		return snapshot{}, fmt.Errorf("%s: %w", filepath.Join(dir, schemaFile), err)
	}
	s := snapshot{Schema: schemas.Schemas[provider.Address]}
	if s.Schema == nil {
		return snapshot{}, fmt.Errorf("%s has no schema for %s", filepath.Join(dir, schemaFile), provider.Address)
	}
	raw, err = os.ReadFile(filepath.Join(dir, replaceFile))
	if err != nil {
		return snapshot{}, err
	}
	if err := json.Unmarshal(raw, &s.RequiresReplace); err != nil {
		return snapshot{}, fmt.Errorf("%s: %w", filepath.Join(dir, replaceFile), err)
	}
	return s, nil
}
