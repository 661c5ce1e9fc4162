package provider

import (
	"crypto/x509"
	"fmt"
	"os"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
)

// trustedRoots is the system's certificate pool plus the certificates of
// the ca_file bundle, or nil (the system's alone) without one. A bundle
// that cannot be read or holds no certificate is an error on ca_file.
func trustedRoots(caFile string, diags *diag.Diagnostics) *x509.CertPool {
	if caFile == "" {
		return nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		diags.AddAttributeError(path.Root("ca_file"), "Unreadable CA bundle",
			fmt.Sprintf("The provider cannot read the CA bundle (ca_file or %s): %v.", envCAFile, err))
		return nil
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool() // no system pool on this platform: the bundle alone
	}
	if !pool.AppendCertsFromPEM(pem) {
		diags.AddAttributeError(path.Root("ca_file"), "Invalid CA bundle",
			fmt.Sprintf("%s (ca_file or %s) holds no PEM certificate; it must hold one or more "+
				"-----BEGIN CERTIFICATE----- blocks.", caFile, envCAFile))
		return nil
	}
	return pool
}
