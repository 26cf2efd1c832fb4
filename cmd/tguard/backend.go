package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/tguard/tguard/lock"
)

// backendFlags choose where the lease lives: the index folder (file) or an
// etcd cluster. They are added to every command that takes --index.
type backendFlags struct {
	backend   string
	endpoints string
	key       string
}

// etcdEndpointsEnv is the default of --etcd-endpoints.
const etcdEndpointsEnv = "TGUARD_ETCD_ENDPOINTS"

// addBackendFlags adds the backend flags to every command under root that
// has an --index flag. The commands share the variables: only the one that
// runs parses its flags.
func addBackendFlags(root *cobra.Command, f *backendFlags) {
	for _, c := range root.Commands() {
		if c.Flags().Lookup("index") != nil {
			c.Flags().StringVar(&f.backend, "backend", "file", "where the lease lives: file (the index folder) or etcd")
			c.Flags().StringVar(&f.endpoints, "etcd-endpoints", "",
				"etcd endpoints, URL[,URL...] (default $"+etcdEndpointsEnv+"); with --backend etcd")
			c.Flags().StringVar(&f.key, "etcd-key", "",
				"the index's name in etcd (default: the index folder's absolute path; hosts that mount it elsewhere must set the same)")
		}
		addBackendFlags(c, f)
	}
}

// check validates the flags of the command that runs.
func (f *backendFlags) check(cmd *cobra.Command) error {
	set := func(name string) bool { fl := cmd.Flags().Lookup(name); return fl != nil && fl.Changed }
	switch f.backend {
	case "file":
		if set("etcd-endpoints") || set("etcd-key") {
			return usageErr(errors.New("--etcd-endpoints and --etcd-key need --backend etcd"))
		}
		return nil
	case "etcd":
	default:
		return usageErr(fmt.Errorf("--backend %q: want file or etcd", f.backend))
	}
	if f.endpoints == "" {
		f.endpoints = envOr(etcdEndpointsEnv, "")
	}
	if strings.TrimSpace(f.endpoints) == "" {
		return usageErr(fmt.Errorf("--backend etcd needs --etcd-endpoints URL[,URL...] or $%s", etcdEndpointsEnv))
	}
	for _, e := range f.list() {
		if e == "" {
			return usageErr(fmt.Errorf("--etcd-endpoints %q: an empty endpoint", f.endpoints))
		}
	}
	// lock validates the endpoints and the key; New connects to nothing.
	l, err := lock.New(".", f.options()...)
	if err != nil {
		return usageErr(err)
	}
	return l.Close()
}

func (f *backendFlags) list() []string {
	parts := strings.Split(f.endpoints, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}

// options are the lock options of the chosen backend.
func (f *backendFlags) options() []lock.Option {
	if f.backend != "etcd" {
		return nil
	}
	opts := []lock.Option{lock.WithEtcd(f.list()...)}
	if f.key != "" {
		opts = append(opts, lock.WithEtcdKey(f.key))
	}
	return opts
}
