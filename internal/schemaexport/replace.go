package main

import (
	"context"
	"fmt"
	"math/big"
	"slices"
	"strings"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// requiresReplace finds, for each resource type, the attributes whose change
// forces a replacement. RequiresReplace is a plan modifier, so the schema
// JSON does not show it; the provider is asked the way Terraform asks it.
// For each attribute a user can set, one PlanResourceChange goes from a
// prior state holding one value to a configuration holding another (every
// other attribute null), and the attribute counts when the plan's
// RequiresReplace names it. Attributes inside single nested attributes and
// blocks are probed too; those inside lists, sets and maps of objects are
// not (the provider has none).
func requiresReplace(ctx context.Context, server tfprotov6.ProviderServer, resources map[string]*tfprotov6.Schema) (map[string][]string, error) {
	out := map[string][]string{}
	for typeName, s := range resources {
		if s == nil || s.Block == nil {
			continue
		}
		objType := s.ValueType()
		for _, path := range configurablePaths(s.Block, nil) {
			leafType, err := typeAt(objType, path)
			if err != nil {
				return nil, fmt.Errorf("%s.%s: %w", typeName, strings.Join(path, "."), err)
			}
			before, after, err := twoValues(leafType)
			if err != nil {
				return nil, fmt.Errorf("%s.%s: %w", typeName, strings.Join(path, "."), err)
			}
			prior, err := valueAt(objType, path, before)
			if err != nil {
				return nil, fmt.Errorf("%s.%s: %w", typeName, strings.Join(path, "."), err)
			}
			config, err := valueAt(objType, path, after)
			if err != nil {
				return nil, fmt.Errorf("%s.%s: %w", typeName, strings.Join(path, "."), err)
			}
			replaces, err := planReplaces(ctx, server, typeName, objType, prior, config, path)
			if err != nil {
				return nil, fmt.Errorf("%s.%s: %w", typeName, strings.Join(path, "."), err)
			}
			if replaces {
				out[typeName] = append(out[typeName], strings.Join(path, "."))
			}
		}
		slices.Sort(out[typeName])
	}
	return out, nil
}

// planReplaces plans the change from prior to config and reports whether
// the plan says the attribute at path forces a replacement.
func planReplaces(ctx context.Context, server tfprotov6.ProviderServer, typeName string, objType tftypes.Type, prior, config tftypes.Value, path []string) (bool, error) {
	priorDV, err := tfprotov6.NewDynamicValue(objType, prior)
	if err != nil {
		return false, err
	}
	configDV, err := tfprotov6.NewDynamicValue(objType, config)
	if err != nil {
		return false, err
	}
	resp, err := server.PlanResourceChange(ctx, &tfprotov6.PlanResourceChangeRequest{
		TypeName:         typeName,
		PriorState:       &priorDV,
		ProposedNewState: &configDV,
		Config:           &configDV,
	})
	if err != nil {
		return false, fmt.Errorf("PlanResourceChange: %w", err)
	}
	if err := diagnosticsError("PlanResourceChange", resp.Diagnostics); err != nil {
		return false, err
	}
	want := tftypes.NewAttributePath()
	for _, step := range path {
		want = want.WithAttributeName(step)
	}
	for _, p := range resp.RequiresReplace {
		if p.Equal(want) {
			return true, nil
		}
	}
	return false, nil
}

// configurablePaths lists the attributes a configuration can set (required
// or optional), descending into single nested attributes and blocks.
func configurablePaths(b *tfprotov6.SchemaBlock, prefix []string) [][]string {
	var out [][]string
	for _, a := range b.Attributes {
		path := append(slices.Clone(prefix), a.Name)
		if a.Required || a.Optional {
			out = append(out, path)
		}
		if a.NestedType != nil && a.NestedType.Nesting == tfprotov6.SchemaObjectNestingModeSingle {
			out = append(out, configurableObjectPaths(a.NestedType, path)...)
		}
	}
	for _, nb := range b.BlockTypes {
		path := append(slices.Clone(prefix), nb.TypeName)
		if nb.Nesting == tfprotov6.SchemaNestedBlockNestingModeSingle || nb.Nesting == tfprotov6.SchemaNestedBlockNestingModeGroup {
			out = append(out, configurablePaths(nb.Block, path)...)
		}
	}
	return out
}

func configurableObjectPaths(o *tfprotov6.SchemaObject, prefix []string) [][]string {
	return configurablePaths(&tfprotov6.SchemaBlock{Attributes: o.Attributes}, prefix)
}

func typeAt(t tftypes.Type, path []string) (tftypes.Type, error) {
	for _, step := range path {
		obj, ok := t.(tftypes.Object)
		if !ok {
			return nil, fmt.Errorf("%s is not an object", step)
		}
		t = obj.AttributeTypes[step]
	}
	return t, nil
}

// valueAt is a value of type t, null everywhere but at path, where it is
// leaf. Every step of path must be an object attribute.
func valueAt(t tftypes.Type, path []string, leaf tftypes.Value) (tftypes.Value, error) {
	if len(path) == 0 {
		return leaf, nil
	}
	obj, ok := t.(tftypes.Object)
	if !ok {
		return tftypes.Value{}, fmt.Errorf("%s is not an object", path[0])
	}
	inner, err := valueAt(obj.AttributeTypes[path[0]], path[1:], leaf)
	if err != nil {
		return tftypes.Value{}, err
	}
	vals := make(map[string]tftypes.Value, len(obj.AttributeTypes))
	for name, at := range obj.AttributeTypes {
		vals[name] = tftypes.NewValue(at, nil)
	}
	vals[path[0]] = inner
	return tftypes.NewValue(obj, vals), nil
}

// twoValues returns two different known values of type t, or, for a
// collection or object, null and an empty one.
func twoValues(t tftypes.Type) (tftypes.Value, tftypes.Value, error) {
	if obj, ok := t.(tftypes.Object); ok {
		return tftypes.NewValue(t, nil), nullObject(obj), nil
	}
	switch {
	case t.Is(tftypes.String):
		return tftypes.NewValue(t, "probe-a"), tftypes.NewValue(t, "probe-b"), nil
	case t.Is(tftypes.Number):
		return tftypes.NewValue(t, big.NewFloat(1)), tftypes.NewValue(t, big.NewFloat(2)), nil
	case t.Is(tftypes.Bool):
		return tftypes.NewValue(t, false), tftypes.NewValue(t, true), nil
	case t.Is(tftypes.List{}), t.Is(tftypes.Set{}):
		return tftypes.NewValue(t, nil), tftypes.NewValue(t, []tftypes.Value{}), nil
	case t.Is(tftypes.Map{}):
		return tftypes.NewValue(t, nil), tftypes.NewValue(t, map[string]tftypes.Value{}), nil
	}
	return tftypes.Value{}, tftypes.Value{}, fmt.Errorf("cannot probe an attribute of type %s", t)
}

// nullObject is a known object whose attributes are all null.
func nullObject(t tftypes.Object) tftypes.Value {
	vals := make(map[string]tftypes.Value, len(t.AttributeTypes))
	for name, at := range t.AttributeTypes {
		vals[name] = tftypes.NewValue(at, nil)
	}
	return tftypes.NewValue(t, vals)
}
