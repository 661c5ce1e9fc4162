package main

import (
	"fmt"
	"slices"
	"sort"

	tfjson "github.com/hashicorp/terraform-json"
)

// snapshot is what the gate compares: the schema as Terraform prints it,
// and the attributes that force a replacement, which it does not print.
type snapshot struct {
	Schema *tfjson.ProviderSchema
	// RequiresReplace maps a resource type to its replace-forcing attribute
	// paths ("timeouts.create" for a nested one).
	RequiresReplace map[string][]string
}

// A breakingChange is one change that can break a configuration or state
// that worked with the old schema. Path is what the CHANGELOG must name:
// `vpsorg_server.hostname`, `data.vpsorg_servers.location`,
// `list.vpsorg_server.status`, `action.vpsorg_server_reboot.server_id`,
// `provider.endpoint`, `identity.vpsorg_server.id`.
type breakingChange struct {
	Path string
	What string
}

func (b breakingChange) String() string { return b.Path + ": " + b.What }

// Address prefixes of the schema kinds, as the CHANGELOG names them.
const (
	prefixData      = "data."
	prefixList      = "list."
	prefixAction    = "action."
	prefixEphemeral = "ephemeral."
	prefixIdentity  = "identity."
	prefixProvider  = "provider"
)

// compare lists the breaking changes from old to cur, sorted by path.
// Additions that need nothing of an existing configuration (a new optional
// attribute, a new resource, a new computed attribute) are not breaks.
func compare(old, cur snapshot) []breakingChange {
	var c comparison
	o, n := orEmpty(old.Schema), orEmpty(cur.Schema)
	if o.ConfigSchema != nil {
		c.block(prefixProvider, o.ConfigSchema.Block, blockOf(n.ConfigSchema))
	}
	c.schemas("", "resource", o.ResourceSchemas, n.ResourceSchemas)
	c.schemas(prefixData, "data source", o.DataSourceSchemas, n.DataSourceSchemas)
	c.schemas(prefixList, "list resource", o.ListResourceSchemas, n.ListResourceSchemas)
	c.schemas(prefixEphemeral, "ephemeral resource", o.EphemeralResourceSchemas, n.EphemeralResourceSchemas)
	for _, name := range sortedKeys(o.ActionSchemas) {
		cur, ok := n.ActionSchemas[name]
		if !ok {
			c.add(prefixAction+name, "action removed")
			continue
		}
		c.block(prefixAction+name, o.ActionSchemas[name].Block, cur.Block)
	}
	for _, name := range sortedKeys(o.ResourceIdentitySchemas) {
		if _, ok := n.ResourceSchemas[name]; !ok {
			continue // the resource's removal is the break
		}
		c.identity(prefixIdentity+name, o.ResourceIdentitySchemas[name], n.ResourceIdentitySchemas[name])
	}
	for _, name := range sortedKeys(cur.RequiresReplace) {
		if _, existed := o.ResourceSchemas[name]; !existed {
			continue // a new resource breaks nothing
		}
		for _, p := range cur.RequiresReplace[name] {
			if !slices.Contains(old.RequiresReplace[name], p) {
				c.add(name+"."+p, "a change now replaces the resource (new RequiresReplace)")
			}
		}
	}
	sort.SliceStable(c.breaks, func(i, j int) bool { return c.breaks[i].Path < c.breaks[j].Path })
	return c.breaks
}

type comparison struct{ breaks []breakingChange }

func (c *comparison) add(path, format string, args ...any) {
	c.breaks = append(c.breaks, breakingChange{Path: path, What: fmt.Sprintf(format, args...)})
}

func (c *comparison) schemas(prefix, kind string, old, cur map[string]*tfjson.Schema) {
	for _, name := range sortedKeys(old) {
		n, ok := cur[name]
		if !ok {
			c.add(prefix+name, "%s removed", kind)
			continue
		}
		c.block(prefix+name, blockOf(old[name]), blockOf(n))
	}
}

func (c *comparison) block(path string, old, cur *tfjson.SchemaBlock) {
	old, cur = orEmptyBlock(old), orEmptyBlock(cur)
	c.attributes(path, old.Attributes, cur.Attributes)
	for _, name := range sortedKeys(old.NestedBlocks) {
		p := path + "." + name
		o := old.NestedBlocks[name]
		n, ok := cur.NestedBlocks[name]
		if !ok {
			c.add(p, "block removed")
			continue
		}
		if o.NestingMode != n.NestingMode {
			c.add(p, "block nesting changed from %s to %s", o.NestingMode, n.NestingMode)
			continue
		}
		if n.MinItems > o.MinItems {
			c.add(p, "block now needs at least %d (was %d)", n.MinItems, o.MinItems)
		}
		if n.MaxItems != 0 && (o.MaxItems == 0 || n.MaxItems < o.MaxItems) {
			c.add(p, "block now allows at most %d (was %s)", n.MaxItems, limit(o.MaxItems))
		}
		c.block(p, o.Block, n.Block)
	}
	for _, name := range sortedKeys(cur.NestedBlocks) {
		if _, existed := old.NestedBlocks[name]; !existed && cur.NestedBlocks[name].MinItems > 0 {
			c.add(path+"."+name, "new required block")
		}
	}
}

func (c *comparison) attributes(path string, old, cur map[string]*tfjson.SchemaAttribute) {
	for _, name := range sortedKeys(old) {
		p := path + "." + name
		n, ok := cur[name]
		if !ok {
			c.add(p, "attribute removed")
			continue
		}
		c.attribute(p, old[name], n)
	}
	for _, name := range sortedKeys(cur) {
		if _, existed := old[name]; !existed && cur[name].Required {
			c.add(path+"."+name, "new required attribute")
		}
	}
}

func (c *comparison) attribute(path string, old, cur *tfjson.SchemaAttribute) {
	switch {
	case old.AttributeNestedType == nil && cur.AttributeNestedType == nil:
		if !old.AttributeType.Equals(cur.AttributeType) {
			c.add(path, "type changed from %s to %s", typeName(old), typeName(cur))
		}
	case old.AttributeNestedType == nil || cur.AttributeNestedType == nil:
		c.add(path, "type changed from %s to %s", typeName(old), typeName(cur))
	case old.AttributeNestedType.NestingMode != cur.AttributeNestedType.NestingMode:
		c.add(path, "type changed from %s to %s", typeName(old), typeName(cur))
	default:
		c.attributes(path, old.AttributeNestedType.Attributes, cur.AttributeNestedType.Attributes)
	}
	oldSettable := old.Required || old.Optional
	switch {
	case cur.Required && old.Optional:
		c.add(path, "optional attribute became required")
	case cur.Required && !old.Required:
		c.add(path, "computed-only attribute became required")
	case oldSettable && !cur.Required && !cur.Optional:
		c.add(path, "attribute can no longer be set (now computed only)")
	}
}

func (c *comparison) identity(path string, old, cur *tfjson.IdentitySchema) {
	if cur == nil {
		c.add(path, "identity removed")
		return
	}
	if old.Version != cur.Version {
		c.add(path, "identity version changed from %d to %d", old.Version, cur.Version)
	}
	for _, name := range sortedKeys(old.Attributes) {
		o, n := old.Attributes[name], cur.Attributes[name]
		switch {
		case n == nil:
			c.add(path+"."+name, "identity attribute removed")
		case !o.IdentityType.Equals(n.IdentityType):
			c.add(path+"."+name, "identity attribute type changed from %s to %s",
				o.IdentityType.FriendlyName(), n.IdentityType.FriendlyName())
		case n.RequiredForImport && !o.RequiredForImport:
			c.add(path+"."+name, "identity attribute became required for import")
		}
	}
	for _, name := range sortedKeys(cur.Attributes) {
		if _, existed := old.Attributes[name]; !existed {
			// Stored identities lack it: Terraform cannot match them.
			c.add(path+"."+name, "new identity attribute")
		}
	}
}

func typeName(a *tfjson.SchemaAttribute) string {
	if a.AttributeNestedType != nil {
		return "nested attributes (" + string(a.AttributeNestedType.NestingMode) + ")"
	}
	return a.AttributeType.FriendlyName()
}

func limit(n uint64) string {
	if n == 0 {
		return "no limit"
	}
	return fmt.Sprint(n)
}

func orEmpty(s *tfjson.ProviderSchema) *tfjson.ProviderSchema {
	if s == nil {
		return &tfjson.ProviderSchema{}
	}
	return s
}

func orEmptyBlock(b *tfjson.SchemaBlock) *tfjson.SchemaBlock {
	if b == nil {
		return &tfjson.SchemaBlock{}
	}
	return b
}

func blockOf(s *tfjson.Schema) *tfjson.SchemaBlock {
	if s == nil {
		return nil
	}
	return s.Block
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
