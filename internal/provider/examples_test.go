package provider

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Every example is valid configuration for this provider. A directory is
// validated as one module, except that each import-by-*.tf file (another
// way to import the same resource) is validated apart, with the rest of its
// directory. An example that uses a feature the binary lacks (import by
// identity, list resources, actions) is skipped, naming the feature.
func TestAccExamples_validate(t *testing.T) {
	t.Parallel()
	root := filepath.Join("..", "..", "examples")
	files := map[string][]string{} // directory → its configuration files
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(path, ".tf") || strings.HasSuffix(path, ".tfquery.hcl")) {
			files[filepath.Dir(path)] = append(files[filepath.Dir(path)], path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 9 {
		t.Fatalf("found %d example directories (%v), want at least 9", len(files), files)
	}
	for dir, paths := range files {
		name, _ := filepath.Rel(root, dir)
		var imports []string
		for _, p := range paths {
			if strings.HasPrefix(filepath.Base(p), "import-by-") {
				imports = append(imports, filepath.Base(p))
			}
		}
		if len(imports) == 0 {
			t.Run(name, func(t *testing.T) { validateExample(t, dir, "") })
		}
		for _, only := range imports {
			t.Run(name+"/"+only, func(t *testing.T) { validateExample(t, dir, only) })
		}
	}
}

var (
	importByIdentity = regexp.MustCompile(`(?m)^\s*identity\s*=`)
	actionBlock      = regexp.MustCompile(`(?m)^\s*(action\s+"|action_trigger\s*\{)`)
)

// validateExample validates a directory of examples, with only one of its
// import-by-*.tf files when only is not empty.
func validateExample(t *testing.T, dir, only string) {
	c := newCLI(t, "http://127.0.0.1:1/api/v1/", "unused")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	declares, query := false, false
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || strings.HasSuffix(name, ".sh") || strings.HasPrefix(name, "import-by-") && name != only {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		switch {
		case strings.HasSuffix(name, ".tfquery.hcl"):
			featureQuery.require(t)
			query = true
		case actionBlock.MatchString(text):
			featureActions.require(t)
		case strings.HasPrefix(name, "import-by-") && importByIdentity.MatchString(text):
			featureIdentity.require(t)
		}
		declares = declares || strings.Contains(text, "required_providers")
		c.write(name, text)
	}
	// Registry snippets leave out the provider requirements.
	if !declares {
		c.write("zz_providers.tf", cliRequiredProviders)
	}
	args := []string{"validate", "-no-color"}
	if query {
		args = append(args, "-query") // .tfquery.hcl files are validated only when asked
	}
	c.must(args...)
}
