package provider

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every directory of examples/ is valid configuration for this provider.
func TestAccExamples_validate(t *testing.T) {
	t.Parallel()
	root := filepath.Join("..", "..", "examples")
	var dirs []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".tf") && (len(dirs) == 0 || dirs[len(dirs)-1] != filepath.Dir(path)) {
			dirs = append(dirs, filepath.Dir(path))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) < 5 {
		t.Fatalf("found %d example directories (%v), want at least 5", len(dirs), dirs)
	}
	for _, dir := range dirs {
		name, _ := filepath.Rel(root, dir)
		t.Run(name, func(t *testing.T) {
			c := newCLI(t, "http://127.0.0.1:1/api/v1/", "unused")
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			declares := false
			for _, e := range entries {
				if e.IsDir() || strings.HasSuffix(e.Name(), ".sh") {
					continue
				}
				b, err := os.ReadFile(filepath.Join(dir, e.Name()))
				if err != nil {
					t.Fatal(err)
				}
				declares = declares || strings.Contains(string(b), "required_providers")
				c.write(e.Name(), string(b))
			}
			// Registry snippets leave out the provider requirements.
			if !declares {
				c.write("zz_providers.tf", cliRequiredProviders)
			}
			c.must("validate", "-no-color")
		})
	}
}
