package provider

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The guides under templates/guides (rendered into docs/guides) show
// scripts and what commands print. A sample pasted by hand drifts from what
// the provider does, so each one stands between markers that the tests
// here find and compare with what they produce:
//
//	<!-- sample: NAME -->        <!-- script: NAME -->
//	```                          ```shell
//	...                          ...
//	```                          ```
//	<!-- /sample -->             <!-- /script -->
//
// tfplugindocs passes the HTML comments through, and Markdown hides them.

// guideTemplate is the text of templates/guides/<name>.md.tmpl.
func guideTemplate(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "templates", "guides", name+".md.tmpl"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// guideBlock is the fenced block between <!-- kind: name --> and
// <!-- /kind --> in a guide, without its fences.
func guideBlock(t *testing.T, guide, kind, name string) string {
	t.Helper()
	re := regexp.MustCompile("(?s)<!-- " + kind + ": " + regexp.QuoteMeta(name) + " -->\n```[a-z]*\n(.*?)```\n<!-- /" + kind + " -->")
	m := re.FindAllStringSubmatch(guide, -1)
	if len(m) != 1 {
		t.Fatalf("the guide has %d blocks marked <!-- %s: %s --> ... <!-- /%s -->, want 1", len(m), kind, name, kind)
	}
	return m[0][1]
}

// compareSample fails, showing both, when a guide's sample is not what the
// test produced.
func compareSample(t *testing.T, guide, name, produced string) {
	t.Helper()
	if sample := guideBlock(t, guide, "sample", name); sample != produced {
		t.Errorf("the sample %q in the guide is stale.\nthe guide shows:\n%s\nthe test produced:\n%s", name, sample, produced)
	}
}

// terraformFmt formats HCL as `terraform fmt -` does, with the Terraform
// the tests use (see prepareTerraform); formatting is the same in every
// release that has the list resource.
func terraformFmt(t *testing.T, src string) string {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), os.Getenv("TF_ACC_TERRAFORM_PATH"), "fmt", "-no-color", "-")
	cmd.Stdin = strings.NewReader(src)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("terraform fmt -: %v\n%s\ninput:\n%s", err, stderr.String(), src)
	}
	return string(out)
}

// hclValue writes a value of a generated configuration as HCL, as
// Terraform writes it: the values a vpsorg_server configuration can hold are
// strings, whole numbers, bools and null.
func hclValue(t *testing.T, v any) string {
	t.Helper()
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		if strings.Contains(v, "${") || strings.Contains(v, "%{") || !strconv.CanBackquote(v) {
			t.Fatalf("%q needs HCL escapes this renderer does not write", v)
		}
		return strconv.Quote(v)
	case int64, bool:
		return fmt.Sprint(v)
	}
	t.Fatalf("a generated value of type %T: this renderer does not write it", v)
	return ""
}

// shellWords splits a line of the guides' shell scripts into words: quotes
// as the shell reads them, $name expanded from vars outside single quotes,
// a comment dropped. It knows only what the scripts use.
func shellWords(t *testing.T, line string, vars map[string]string) []string {
	t.Helper()
	var words []string
	var word strings.Builder
	inWord := false
	expand := func(s string) string {
		return regexp.MustCompile(`\$([a-z_]+)`).ReplaceAllStringFunc(s, func(ref string) string {
			v, ok := vars[ref[1:]]
			if !ok {
				t.Fatalf("the script uses %s before setting it: %s", ref, line)
			}
			return v
		})
	}
	for i := 0; i < len(line); i++ {
		switch c := line[i]; {
		case c == '#' && !inWord:
			i = len(line)
		case c == ' ' || c == '\t':
			if inWord {
				words, inWord = append(words, word.String()), false
				word.Reset()
			}
		case c == '\'' || c == '"':
			end := strings.IndexByte(line[i+1:], c)
			if end < 0 {
				t.Fatalf("an unterminated quote in the script: %s", line)
			}
			quoted := line[i+1 : i+1+end]
			if c == '"' {
				quoted = expand(quoted)
			}
			word.WriteString(quoted)
			inWord, i = true, i+1+end
		default:
			end := strings.IndexAny(line[i:], " \t'\"")
			if end < 0 {
				end = len(line) - i
			}
			word.WriteString(expand(line[i : i+end]))
			inWord, i = true, i+end-1
		}
	}
	if inWord {
		words = append(words, word.String())
	}
	return words
}

// curlCommand is a curl command of a guide's script, as an HTTP request.
type curlCommand struct {
	method, url, body string
	header            http.Header
	quiet             bool // > /dev/null: what it answers is not shown
}

// parseCurl reads the options the guides use: -s, -H, -d, -X and a URL.
func parseCurl(t *testing.T, words []string) curlCommand {
	t.Helper()
	c := curlCommand{method: http.MethodGet, header: http.Header{}}
	for i := 1; i < len(words); i++ {
		arg := func() string {
			if i+1 == len(words) {
				t.Fatalf("curl %s without its argument: %q", words[i], words)
			}
			i++
			return words[i]
		}
		switch w := words[i]; {
		case w == "-s":
		case w == "-H":
			name, value, ok := strings.Cut(arg(), ": ")
			if !ok {
				t.Fatalf("curl -H without \"Name: value\": %q", words)
			}
			c.header.Add(name, value)
		case w == "-d":
			c.body, c.method = arg(), http.MethodPost
		case w == "-X":
			c.method = arg()
		case w == ">/dev/null":
			c.quiet = true
		case strings.HasPrefix(w, "http"):
			c.url = w
		default:
			t.Fatalf("curl %s: not an option the guides' scripts use: %q", w, words)
		}
	}
	return c
}

// do sends the request as curl would and returns the answer's body.
func (c curlCommand) do(ctx context.Context, t *testing.T) string {
	t.Helper()
	var body io.Reader
	if c.body != "" {
		body = strings.NewReader(c.body)
	}
	req, err := http.NewRequestWithContext(ctx, c.method, c.url, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header = c.header
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("curl %s %s: %v", c.method, c.url, err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode >= 300 {
		t.Fatalf("curl %s %s: HTTP %s: %s", c.method, c.url, resp.Status, answer)
	}
	return string(answer)
}

// The catalog values the API documents (/work/shared/api/README.md's
// "Create server"): the real API has no endpoint that lists them, and the
// emulator knows more, which the real API may refuse. A guide's user copies
// what it shows, so the guides use only these.
var (
	documentedPlans     = []int64{1, 2}
	documentedOSes      = []int64{3, 5}
	documentedLocations = []string{"us-west", "us-east"}
)

// catalogSetting finds plan_id, os_id and location set in HCL
// (plan_id = 1) or JSON ("plan_id": 1).
var catalogSetting = regexp.MustCompile(`"?\b(plan_id|os_id|location)"?\s*[:=]\s*("[^"]*"|[0-9]+)`)

// Every plan, operating system and location a guide sets, in HCL, JSON or
// a curl command, is one the API documents.
func TestGuideSamples_catalogValuesAreDocumented(t *testing.T) {
	t.Parallel()
	templates, err := filepath.Glob(filepath.Join("..", "..", "templates", "*", "*.md.tmpl"))
	if err != nil {
		t.Fatal(err)
	}
	index, err := filepath.Glob(filepath.Join("..", "..", "templates", "*.md.tmpl"))
	if err != nil {
		t.Fatal(err)
	}
	templates = append(templates, index...)
	if len(templates) < 5 {
		t.Fatalf("found only %q; the test would prove nothing", templates)
	}
	settings := 0
	for _, path := range templates {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for n, line := range strings.Split(string(b), "\n") {
			for _, m := range catalogSetting.FindAllStringSubmatch(line, -1) {
				settings++
				name, value := m[1], strings.Trim(m[2], `"`)
				var ok bool
				var allowed string
				switch name {
				case "plan_id":
					id, _ := strconv.ParseInt(value, 10, 64)
					ok, allowed = slices.Contains(documentedPlans, id), fmt.Sprint(documentedPlans)
				case "os_id":
					id, _ := strconv.ParseInt(value, 10, 64)
					ok, allowed = slices.Contains(documentedOSes, id), fmt.Sprint(documentedOSes)
				case "location":
					ok, allowed = slices.Contains(documentedLocations, value), fmt.Sprint(documentedLocations)
				}
				if !ok {
					t.Errorf("%s:%d sets %s to %s, which the API does not document; use one of %s", path, n+1, name, value, allowed)
				}
			}
		}
	}
	if settings < 10 {
		t.Errorf("found only %d catalog settings in the guides; the pattern would prove nothing", settings)
	}
}
