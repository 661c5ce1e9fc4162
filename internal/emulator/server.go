package emulator

import (
	"fmt"
	"time"
)

// Server statuses. The documented ones come first; StatusError is the
// emulator's choice for a failed provisioning, which the API leaves open.
const (
	StatusProvisioning = "provisioning"
	StatusActive       = "active"
	StatusStopped      = "stopped"
	StatusSuspended    = "suspended"
	StatusStarting     = "starting"
	StatusStopping     = "stopping"
	StatusRebooting    = "rebooting"
	StatusError        = "error"
)

// Server is a snapshot of one emulated server, for out-of-band inspection.
// Status is as of the moment of the call; CreatedAt and UpdatedAt are UTC
// and cut to whole seconds, exactly as the API shows them.
type Server struct {
	ID             int64     `json:"id"`
	Account        string    `json:"account"`
	Name           string    `json:"name"`
	Hostname       *string   `json:"hostname"`
	Status         string    `json:"status"`
	IPAddress      *string   `json:"ip_address"`
	IPv6Address    *string   `json:"ipv6_address"`
	Location       string    `json:"location"`
	PlanID         int64     `json:"plan_id"`
	OSID           int64     `json:"os_id"`
	SSHKeyID       *int64    `json:"ssh_key_id,omitempty"`
	BackupsEnabled bool      `json:"backups_enabled"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// server is the stored state. A transition (provisioning, starting,
// stopping, rebooting) is kept as its start and duration and settled lazily
// by settle on every read, so no goroutine runs per server and an injected
// clock fully controls what the API shows.
type server struct {
	id        int64
	account   string
	name      string
	hostname  *string
	location  string
	plan      Plan
	os        OS
	sshKeyID  *int64
	backups   bool
	createdAt time.Time

	phase

	// editedAt is when a PUT, PATCH or RenameServer last changed a
	// setting; such changes show at once even under a consistency lag.
	editedAt time.Time
	// lagged holds the changes readers do not see yet (consistency.go).
	lagged []hidden
	// history is every status the server went through (history.go).
	history []StatusChange
}

// phase is the part of a server's state that actions change, and that
// readers see late under a consistency lag: the status, any transition
// under way, and updated_at.
type phase struct {
	status string        // current status, or the transient one while target != ""
	target string        // status reached when the transition ends; "" if none
	done   string        // the history cause recorded when it ends
	since  time.Time     // when the transition began
	dur    time.Duration // how long it lasts, fixed when it began

	// provisioned is set once the server has finished provisioning; it has
	// addresses from then on. A failed provisioning never sets it.
	provisioned bool

	updatedAt time.Time
	// keepUpdatedAt leaves updatedAt alone when the transition ends
	// (Options.RebootKeepsUpdatedAt).
	keepUpdatedAt bool
}

// transition is a passage through a transient status to a target status;
// done is the history cause of its end.
type transition struct{ transient, target, done string }

var (
	provisioning       = transition{StatusProvisioning, StatusActive, "provisioned"}
	failedProvisioning = transition{StatusProvisioning, StatusError, "provisioning failed"}
)

// settle completes the pending transition if its time has come. The
// completion time, not the time of the read, becomes updated_at.
func (s *server) settle(now time.Time) {
	if s.target == "" {
		return
	}
	done := s.since.Add(s.dur)
	if now.Before(done) {
		return
	}
	if s.status == StatusProvisioning && s.target != StatusError {
		s.provisioned = true
	}
	s.status, s.target = s.target, ""
	if done.After(s.updatedAt) && !s.keepUpdatedAt {
		s.updatedAt = done
	}
	s.keepUpdatedAt = false
	s.record(done, s.status, s.done)
}

// begin starts transition t; cause names what started it.
func (s *server) begin(t transition, now time.Time, d time.Duration, cause string) {
	s.status, s.target, s.done, s.since, s.dur = t.transient, t.target, t.done, now, d
	s.updatedAt, s.keepUpdatedAt = now, false
	s.record(now, s.status, cause)
}

// setStatus puts the server in status at once, dropping any transition.
func (s *server) setStatus(status string, now time.Time, cause string) {
	s.status, s.target = status, ""
	if status != StatusProvisioning && status != StatusError {
		s.provisioned = true
	}
	s.updatedAt = now
	s.record(now, status, cause)
}

func (s *server) hasAddresses() bool {
	return s.provisioned && s.status != StatusProvisioning
}

// ipv4 derives a stable documentation-range address from the id, so that
// tests can predict it: 203.0.113.1-254, then 198.51.100.1-254, repeating.
func (s *server) ipv4() *string {
	if !s.hasAddresses() {
		return nil
	}
	n := (s.id - firstID) % 508
	if n < 0 {
		n += 508
	}
	var ip string
	if n < 254 {
		ip = fmt.Sprintf("203.0.113.%d", n+1)
	} else {
		ip = fmt.Sprintf("198.51.100.%d", n-254+1)
	}
	return &ip
}

func (s *server) ipv6() *string {
	if !s.hasAddresses() {
		return nil
	}
	ip := fmt.Sprintf("2001:db8::%x", s.id)
	return &ip
}

func (s *server) snapshot() Server {
	return Server{
		ID:             s.id,
		Account:        s.account,
		Name:           s.name,
		Hostname:       cloneString(s.hostname),
		Status:         s.status,
		IPAddress:      s.ipv4(),
		IPv6Address:    s.ipv6(),
		Location:       s.location,
		PlanID:         s.plan.ID,
		OSID:           s.os.ID,
		SSHKeyID:       cloneInt(s.sshKeyID),
		BackupsEnabled: s.backups,
		CreatedAt:      apiTime(s.createdAt),
		UpdatedAt:      apiTime(s.updatedAt),
	}
}

func cloneString(p *string) *string {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

func cloneInt(p *int64) *int64 {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// running reports whether the machine is powered on, for resource usage.
func running(status string) bool {
	switch status {
	case StatusActive, StatusStarting, StatusStopping, StatusRebooting:
		return true
	}
	return false
}

// JSON views. Field order follows the vendor's examples.

type planView struct {
	ID      int64  `json:"id"`
	Name    string `json:"name"`
	VCPUs   int    `json:"vcpus"`
	Memory  int    `json:"memory"`
	Storage int    `json:"storage"`
}

type planDetailView struct {
	planView
	Bandwidth int `json:"bandwidth"`
}

type osView struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

type usageView struct {
	CPUPercent    float64 `json:"cpu_percent"`
	MemoryUsed    int     `json:"memory_used"`
	DiskUsed      int     `json:"disk_used"`
	BandwidthUsed int     `json:"bandwidth_used"`
}

type listView struct {
	ID        int64    `json:"id"`
	Name      string   `json:"name"`
	Hostname  *string  `json:"hostname"`
	Status    string   `json:"status"`
	IPAddress *string  `json:"ip_address"`
	Location  string   `json:"location"`
	Plan      planView `json:"plan"`
	OS        osView   `json:"os"`
	CreatedAt string   `json:"created_at"`
	UpdatedAt string   `json:"updated_at"`
}

type detailView struct {
	ID             int64          `json:"id"`
	Name           string         `json:"name"`
	Hostname       *string        `json:"hostname"`
	Status         string         `json:"status"`
	IPAddress      *string        `json:"ip_address"`
	IPv6Address    *string        `json:"ipv6_address"`
	Location       string         `json:"location"`
	Plan           planDetailView `json:"plan"`
	OS             osView         `json:"os"`
	BackupsEnabled bool           `json:"backups_enabled"`
	ResourceUsage  usageView      `json:"resource_usage"`
	CreatedAt      string         `json:"created_at"`
	UpdatedAt      string         `json:"updated_at"`
}

type createView struct {
	ID             int64    `json:"id"`
	Name           string   `json:"name"`
	Hostname       *string  `json:"hostname"`
	Status         string   `json:"status"`
	IPAddress      *string  `json:"ip_address"`
	Location       string   `json:"location"`
	Plan           planView `json:"plan"`
	OS             osView   `json:"os"`
	BackupsEnabled bool     `json:"backups_enabled"`
	CreatedAt      string   `json:"created_at"`
	UpdatedAt      string   `json:"updated_at"`
	Message        string   `json:"message"`
}

type actionServerView struct {
	ID     int64  `json:"id"`
	Name   string `json:"name"`
	Status string `json:"status"`
}

type actionView struct {
	Status  string           `json:"status"`
	Message string           `json:"message"`
	Server  actionServerView `json:"server"`
}

const provisioningMessage = "Server is being provisioned. This may take 2-5 minutes."

// apiTime is t as the API shows it: UTC, whole seconds. Snapshots use it
// too, so that a Server compares equal to what a client parsed.
func apiTime(t time.Time) time.Time { return t.UTC().Truncate(time.Second) }

// timestamp formats t as the API does: RFC 3339, UTC, whole seconds.
func timestamp(t time.Time) string { return apiTime(t).Format("2006-01-02T15:04:05Z") }

func (s *server) planView() planView {
	return planView{ID: s.plan.ID, Name: s.plan.Name, VCPUs: s.plan.VCPUs, Memory: s.plan.Memory, Storage: s.plan.Storage}
}

func (s *server) listView() listView {
	return listView{
		ID:        s.id,
		Name:      s.name,
		Hostname:  s.hostname,
		Status:    s.status,
		IPAddress: s.ipv4(),
		Location:  s.location,
		Plan:      s.planView(),
		OS:        osView{ID: s.os.ID, Name: s.os.Name},
		CreatedAt: timestamp(s.createdAt),
		UpdatedAt: timestamp(s.updatedAt),
	}
}

func (s *server) detailView(now time.Time) detailView {
	return detailView{
		ID:             s.id,
		Name:           s.name,
		Hostname:       s.hostname,
		Status:         s.status,
		IPAddress:      s.ipv4(),
		IPv6Address:    s.ipv6(),
		Location:       s.location,
		Plan:           planDetailView{planView: s.planView(), Bandwidth: s.plan.Bandwidth},
		OS:             osView{ID: s.os.ID, Name: s.os.Name},
		BackupsEnabled: s.backups,
		ResourceUsage:  s.usage(now),
		CreatedAt:      timestamp(s.createdAt),
		UpdatedAt:      timestamp(s.updatedAt),
	}
}

func (s *server) createView() createView {
	return createView{
		ID:             s.id,
		Name:           s.name,
		Hostname:       s.hostname,
		Status:         s.status,
		IPAddress:      s.ipv4(),
		Location:       s.location,
		Plan:           s.planView(),
		OS:             osView{ID: s.os.ID, Name: s.os.Name},
		BackupsEnabled: s.backups,
		CreatedAt:      timestamp(s.createdAt),
		UpdatedAt:      timestamp(s.updatedAt),
		Message:        provisioningMessage,
	}
}

// usage makes up plausible, deterministic numbers: CPU and memory vary by
// minute while the machine runs and are zero when it does not; disk is a
// fixed share of the plan's storage once installed; bandwidth grows by 1 GB
// per hour of age, capped at the plan's allowance.
func (s *server) usage(now time.Time) usageView {
	var u usageView
	if !s.provisioned {
		return u
	}
	u.DiskUsed = s.plan.Storage*(10+int(s.id%30))/100 + 2
	if hours := int(now.Sub(s.createdAt) / time.Hour); hours > 0 {
		u.BandwidthUsed = min(hours, s.plan.Bandwidth)
	}
	if running(s.status) {
		h := mix(uint64(s.id)<<20 ^ uint64(now.Unix()/60))
		u.CPUPercent = float64(50+h%600) / 10 // 5.0 .. 64.9
		u.MemoryUsed = s.plan.Memory * int(25+(h>>16)%50) / 100
	}
	return u
}

// mix is a 64-bit finaliser (from SplitMix64) used to spread bits.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}
