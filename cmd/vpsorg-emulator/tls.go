package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/emulator/persist"
)

// TLS mode: at every start the emulator makes a CA of its own and a server
// certificate for the names given, and writes the CA certificate (never a
// key) as PEM. A client trusts the emulator the way users trust a private
// CA: the provider's ca_file (VPSORG_CA_FILE), or SSL_CERT_FILE on Linux.

// listenTLS wraps ln in TLS with a fresh CA, writing the CA certificate.
func (in *instance) listenTLS(ln net.Listener) (net.Listener, error) {
	sc := in.cfg.service
	caPEM, cert, err := makeCertificates(strings.Split(sc.tlsNames, ","), time.Now())
	if err != nil {
		ln.Close()
		return nil, err
	}
	in.caPEM, in.caFile = caPEM, sc.tlsCAFile
	if in.caFile == "" {
		if in.tempDir, err = os.MkdirTemp("", "vpsorg-emulator-"); err != nil {
			ln.Close()
			return nil, err
		}
		in.caFile = filepath.Join(in.tempDir, "ca.pem")
	}
	if err := persist.WriteFile(in.caFile, caPEM); err != nil {
		ln.Close()
		return nil, err
	}
	in.url = "https://" + strings.TrimPrefix(in.url, "http://")
	return tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}), nil
}

// makeCertificates returns a new CA's certificate as PEM and a server
// certificate it signed for names (host names or IP addresses), both valid
// from an hour before now for a year.
func makeCertificates(names []string, now time.Time) ([]byte, tls.Certificate, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	ca := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "vpsorg-emulator CA", Organization: []string{"vpsorg-emulator"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(1, 0, 0),
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	leaf := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: "vpsorg-emulator"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(1, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, name := range names {
		name = strings.TrimSpace(name)
		if ip := net.ParseIP(name); ip != nil {
			leaf.IPAddresses = append(leaf.IPAddresses, ip)
		} else if name != "" {
			leaf.DNSNames = append(leaf.DNSNames, name)
		}
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, ca, &leafKey.PublicKey, caKey)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	return caPEM, tls.Certificate{Certificate: [][]byte{leafDER, caDER}, PrivateKey: leafKey}, nil
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127)) // crypto/rand never fails
	return n
}
