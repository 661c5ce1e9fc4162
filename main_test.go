package main

import (
	"os"
	"testing"
)

func TestQuietUnlessAsked(t *testing.T) {
	unset := func(t *testing.T, names ...string) {
		for _, name := range names {
			t.Setenv(name, "") // restored after the test
			os.Unsetenv(name)
		}
	}
	t.Run("no log asked for: the SDK's and the provider's logs are off", func(t *testing.T) {
		unset(t, append([]string{"TF_LOG", "TF_LOG_PROVIDER"}, sdkLogLevels...)...)
		quietUnlessAsked()
		for _, name := range sdkLogLevels {
			if got := os.Getenv(name); got != "off" {
				t.Errorf("%s = %q, want off", name, got)
			}
		}
	})
	t.Run("TF_LOG set: left to the SDK", func(t *testing.T) {
		unset(t, append([]string{"TF_LOG_PROVIDER"}, sdkLogLevels...)...)
		t.Setenv("TF_LOG", "debug")
		quietUnlessAsked()
		for _, name := range sdkLogLevels {
			if v, set := os.LookupEnv(name); set {
				t.Errorf("%s = %q; with TF_LOG set it must stay unset", name, v)
			}
		}
	})
	t.Run("TF_LOG_PROVIDER set: left to the SDK", func(t *testing.T) {
		unset(t, append([]string{"TF_LOG", "TF_LOG_PROVIDER"}, sdkLogLevels...)...)
		t.Setenv("TF_LOG_PROVIDER", "trace")
		quietUnlessAsked()
		if v, set := os.LookupEnv("TF_LOG_SDK_FRAMEWORK"); set {
			t.Errorf("TF_LOG_SDK_FRAMEWORK = %q; with TF_LOG_PROVIDER set it must stay unset", v)
		}
	})
	t.Run("a level the user set for one SDK logger stays", func(t *testing.T) {
		unset(t, append([]string{"TF_LOG", "TF_LOG_PROVIDER"}, sdkLogLevels...)...)
		t.Setenv("TF_LOG_SDK_PROTO", "warn")
		quietUnlessAsked()
		if got := os.Getenv("TF_LOG_SDK_PROTO"); got != "warn" {
			t.Errorf("TF_LOG_SDK_PROTO = %q, want the user's warn", got)
		}
	})
}
