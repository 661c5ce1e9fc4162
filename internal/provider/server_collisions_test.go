package provider

import (
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/vpsorg"
)

func TestCollisions(t *testing.T) {
	c, err := vpsorg.New(vpsorg.Config{Endpoint: "http://127.0.0.1:1/api/v1/", Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	noteRefreshed(c, 3) // a refresh of this process read server 3 from state
	srv := func(id int64, name, location string) vpsorg.Server {
		return vpsorg.Server{ID: id, Name: name, Location: location, Status: vpsorg.StatusProvisioning, CreatedAt: "2026-01-02T10:00:00Z"}
	}
	servers := []vpsorg.Server{srv(5, "web", "us-west"), srv(2, "web", "us-west"), srv(3, "web", "us-west"), srv(4, "web", "us-east"), srv(6, "db", "us-west")}
	cases := []struct {
		name     string
		planned  string
		location types.String
		want     []int64
	}{
		{"same name and location, by id; the one in state is none", "web", types.StringValue("us-west"), []int64{2, 5}},
		{"a location not yet known: every location", "web", types.StringUnknown(), []int64{2, 4, 5}},
		{"a fresh name: none", "cache", types.StringValue("us-west"), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got []int64
			for _, s := range collisions(servers, tc.planned, tc.location, c) {
				got = append(got, s.ID)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("collisions = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCollisionAdvice(t *testing.T) {
	now := time.Date(2026, 1, 2, 10, 3, 30, 0, time.UTC)
	twins := []vpsorg.Server{
		{ID: 7, Name: "web", Location: "us-west", Status: "provisioning", CreatedAt: "2026-01-02T10:00:00Z"},
		{ID: 9, Name: "web", Location: "us-west", Status: "active", CreatedAt: "yesterday"},
	}
	advice := collisionAdvice("web", twins, now)
	for _, want := range []string{
		`the API already lists 2 servers under that name`,
		`server 7 in us-west, status "provisioning", created 2026-01-02T10:00:00Z \(3m30s ago\)`,
		`server 9 in us-west, status "active", created "yesterday"`,
		`import \{\n    to = vpsorg_server\.NAME # this resource's address\n    id = "7"\n  \}`,
		`id = "9"`,
		`terraform import 'vpsorg_server.NAME' 7`,
		`If it is managed elsewhere`,
		`never adopts a server on its name alone`,
	} {
		if !regexp.MustCompile(want).MatchString(advice) {
			t.Errorf("the advice does not match %q:\n%s", want, advice)
		}
	}
}
