package bench

import (
	"fmt"
	"strconv"
	"strings"
)

// The two configurations the benchmark applies. Both describe the same
// fleet: N servers named bench-<i>, plan 1, OS 5, in us-west. The endpoint
// and the token come from VPSORG_ENDPOINT and VPSORG_API_TOKEN in
// terraform's environment, for the provider and for the curl calls alike.

// providerConfig is N vpsorg_server resources, the first stopped of them
// with power_state = "stopped" (when above 0; the others "running").
// backups is the attribute the update phase changes on all of them (false
// is the provider's default, so the first apply and the plan see no
// difference). maxRPS, when above 0, is the provider's
// max_requests_per_second.
func providerConfig(n, stopped int, backups bool, maxRPS float64) string {
	block := "provider \"vpsorg\" {}"
	if maxRPS > 0 {
		block = fmt.Sprintf("provider \"vpsorg\" {\n  max_requests_per_second = %s\n}", strconv.FormatFloat(maxRPS, 'f', -1, 64))
	}
	power := ""
	if stopped > 0 {
		power = fmt.Sprintf("\n  power_state     = count.index < %d ? \"stopped\" : \"running\"", stopped)
	}
	return fmt.Sprintf(`terraform {
  required_providers {
    vpsorg = {
      source = "vpsorg/vpsorg"
    }
  }
}

%s

resource "vpsorg_server" "bench" {
  count = %d

  name            = "bench-${count.index}"
  plan_id         = 1
  os_id           = 5
  location        = "us-west"
  backups_enabled = %t%s
}
`, block, n, backups, power)
}

// localExecConfig is the same fleet as users without a provider manage it:
// terraform_data resources whose create-time local-exec provisioner POSTs
// with curl, keeps the id (extracted with sed: jq is not assumed) in a file
// under idDir named after the server, and polls the server once a second
// until it is active; and whose destroy-time provisioner DELETEs the id from
// that file. Destroy-time provisioners may reference only self, so the
// endpoint and the token come from the environment.
func localExecConfig(n int, idDir string) string {
	create := `set -e
body='{"name": "${self.input}", "plan_id": 1, "os_id": 5, "location": "us-west"}'
answer=$(curl -sf -X POST -H "Authorization: Bearer $VPSORG_API_TOKEN" -H 'Content-Type: application/json' -d "$body" "$${VPSORG_ENDPOINT}servers/")
id=$(printf '%s' "$answer" | sed -n 's/^[^{]*{[^{]*"id": *\([0-9][0-9]*\).*/\1/p')
test -n "$id" || { echo "no id in: $answer" >&2; exit 1; }
printf '%s\n' "$id" > "IDDIR/${self.input}"
tries=0
until curl -sf -H "Authorization: Bearer $VPSORG_API_TOKEN" "$${VPSORG_ENDPOINT}servers/$id/" | grep -q '"status": *"active"'; do
  tries=$((tries + 1))
  if [ "$tries" -ge 600 ]; then echo "server $id did not become active" >&2; exit 1; fi
  sleep 1
done
`
	destroy := `set -e
id=$(cat "IDDIR/${self.input}")
curl -sf -X DELETE -H "Authorization: Bearer $VPSORG_API_TOKEN" "$${VPSORG_ENDPOINT}servers/$id/"
rm -f "IDDIR/${self.input}"
`
	create = strings.ReplaceAll(create, "IDDIR", idDir)
	destroy = strings.ReplaceAll(destroy, "IDDIR", idDir)
	return fmt.Sprintf(`resource "terraform_data" "bench" {
  count = %d

  input = "bench-${count.index}"

  provisioner "local-exec" {
    command = <<-EOT
%s    EOT
  }

  provisioner "local-exec" {
    when    = destroy
    command = <<-EOT
%s    EOT
  }
}
`, n, indent(create, "      "), indent(destroy, "      "))
}

// indent prefixes every non-empty line of s.
func indent(s, prefix string) string {
	lines := strings.SplitAfter(s, "\n")
	for i, l := range lines {
		if strings.TrimSpace(l) != "" {
			lines[i] = prefix + l
		}
	}
	return strings.Join(lines, "")
}
