// Command goclient drives one ZooKeeper server through the go-zookeeper
// client (github.com/samuel/go-zookeeper/zk, Debian
// golang-github-samuel-go-zookeeper-dev, unmodified) and prints one
// normalised line per observation: no session ids, times or absolute zxids.
// test_goclient.sh runs it against Apache ZooKeeper 3.8 and bin/zkserver and
// diffs the outputs.  Every observation is also checked against its expected
// value; a failed check prints "CHECK FAILED" on stderr and exits 1.
//
// Usage: goclient HOST:PORT
package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/samuel/go-zookeeper/zk"
)

var failures int

// expect prints "what = actual" and records a failure unless it equals want.
func expect(what string, actual interface{}, want string) {
	got := fmt.Sprint(actual)
	fmt.Printf("%s = %s\n", what, got)
	if got != want {
		fmt.Fprintf(os.Stderr, "CHECK FAILED %s: got %q, expected %q\n", what, got, want)
		failures++
	}
}

// errName names an error for the output ("ok" for nil).
func errName(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}

// stat keeps only the Stat fields that are equal on every server.
func stat(s *zk.Stat) string {
	if s == nil {
		return "nil"
	}
	return fmt.Sprintf("v=%d cv=%d av=%d len=%d nc=%d eph=%t mz>=cz=%t", s.Version, s.Cversion, s.Aversion,
		s.DataLength, s.NumChildren, s.EphemeralOwner != 0, s.Mzxid >= s.Czxid)
}

// waitEvent returns the next event on ch, or a "timeout" pseudo-event after d.
func waitEvent(ch <-chan zk.Event, d time.Duration) string {
	select {
	case ev, open := <-ch:
		if !open {
			return "closed"
		}
		return fmt.Sprintf("%s %s", ev.Type, ev.Path)
	case <-time.After(d):
		return "timeout"
	}
}

// quietLogger drops the client's connection chatter (it has addresses and session ids).
type quietLogger struct{}

func (quietLogger) Printf(string, ...interface{}) {}

// gate is a dialer that can refuse connections for a while and cut the
// current one, which is how the test makes a session expire.
type gate struct {
	mu      sync.Mutex
	closed  bool
	current net.Conn
}

func (g *gate) dial(network, address string, timeout time.Duration) (net.Conn, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return nil, errors.New("gate closed")
	}
	c, err := net.DialTimeout(network, address, timeout)
	g.current = c
	return c, err
}

func (g *gate) setClosed(closed bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.closed = closed
	if closed && g.current != nil {
		g.current.Close()
	}
}

// connect opens a session and waits (10 s max) until it has one.
// dialer nil means the client's own.
func connect(hosts string, timeout time.Duration, dialer zk.Dialer) (*zk.Conn, <-chan zk.Event) {
	var c *zk.Conn
	var ev <-chan zk.Event
	var err error
	if dialer == nil {
		c, ev, err = zk.Connect([]string{hosts}, timeout, zk.WithLogger(quietLogger{}))
	} else {
		c, ev, err = zk.Connect([]string{hosts}, timeout, zk.WithLogger(quietLogger{}), zk.WithDialer(dialer))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "connect:", err)
		os.Exit(2)
	}
	deadline := time.After(10 * time.Second)
	for {
		select {
		case e := <-ev:
			if e.State == zk.StateHasSession {
				return c, ev
			}
		case <-deadline:
			fmt.Fprintln(os.Stderr, "no session within 10 s")
			os.Exit(2)
		}
	}
}

func main() {
	hosts := os.Args[1]
	c, _ := connect(hosts, 10*time.Second, nil)
	acl := zk.WorldACL(zk.PermAll)

	// ---- create / get / set / delete
	p, err := c.Create("/go", []byte("root"), 0, acl)
	expect("create", p+" "+errName(err), "/go ok")
	_, err = c.Create("/go", nil, 0, acl)
	expect("create.exists", errName(err), zk.ErrNodeExists.Error())
	_, err = c.Create("/go/no/parent", nil, 0, acl)
	expect("create.noparent", errName(err), zk.ErrNoNode.Error())
	_, err = c.Create("bad", nil, 0, acl)
	expect("create.badpath", errName(err), zk.ErrInvalidPath.Error())
	data, st, err := c.Get("/go")
	expect("get", string(data)+" "+stat(st)+" "+errName(err), "root v=0 cv=0 av=0 len=4 nc=0 eph=false mz>=cz=true ok")
	st2, err := c.Set("/go", []byte("r2"), 0)
	expect("set", stat(st2)+" "+errName(err), "v=1 cv=0 av=0 len=2 nc=0 eph=false mz>=cz=true ok")
	// the two failed creates took a zxid each (Apache logs error txns)
	expect("set.mzxid-czxid", st2.Mzxid-st.Czxid, "3")
	_, err = c.Set("/go", []byte("x"), 0)
	expect("set.badversion", errName(err), zk.ErrBadVersion.Error())
	_, _, err = c.Get("/go/missing")
	expect("get.missing", errName(err), zk.ErrNoNode.Error())
	ok, st, err := c.Exists("/go")
	expect("exists", fmt.Sprint(ok)+" "+stat(st)+" "+errName(err), "true v=1 cv=0 av=0 len=2 nc=0 eph=false mz>=cz=true ok")
	ok, st, err = c.Exists("/go/missing")
	expect("exists.missing", fmt.Sprint(ok)+" "+stat(st)+" "+errName(err), "false v=0 cv=0 av=0 len=0 nc=0 eph=false mz>=cz=true ok")
	c.Create("/go/x", []byte("1"), 0, acl)
	c.Create("/go/y", nil, 0, acl)
	kids, st, err := c.Children("/go")
	sort.Strings(kids)
	expect("children", fmt.Sprint(kids)+" "+stat(st)+" "+errName(err), "[x y] v=1 cv=2 av=0 len=2 nc=2 eph=false mz>=cz=true ok")
	expect("delete.notempty", errName(c.Delete("/go", -1)), zk.ErrNotEmpty.Error())
	expect("delete.badversion", errName(c.Delete("/go/y", 5)), zk.ErrBadVersion.Error())
	expect("delete", errName(c.Delete("/go/y", 0)), "ok")
	expect("delete.missing", errName(c.Delete("/go/y", -1)), zk.ErrNoNode.Error())
	big := make([]byte, 500000)
	_, err = c.Create("/go/big", big, 0, acl)
	data, _, err2 := c.Get("/go/big")
	expect("big", fmt.Sprint(errName(err), " ", len(data), " ", errName(err2)), "ok 500000 ok")

	// ---- ephemeral and sequential
	c2, _ := connect(hosts, 10*time.Second, nil)
	var names []string
	for i := 0; i < 2; i++ {
		n, err := c.Create("/go/s-", nil, zk.FlagSequence, acl)
		names = append(names, n+" "+errName(err))
	}
	n, err := c2.Create("/go/e-", []byte("e"), zk.FlagEphemeral|zk.FlagSequence, acl)
	names = append(names, n+" "+errName(err))
	n, err = c2.Create("/go/eph", nil, zk.FlagEphemeral, acl)
	names = append(names, n+" "+errName(err))
	// the sequence number counts the parent's creates, not the delete of /go/y
	expect("sequential", names, "[/go/s-0000000003 ok /go/s-0000000004 ok /go/e-0000000005 ok /go/eph ok]")
	_, st, _ = c.Get("/go/eph")
	expect("ephemeral.owner", st.EphemeralOwner == c2.SessionID(), "true")
	_, err = c2.Create("/go/eph/kid", nil, 0, acl)
	expect("ephemeral.nochildren", errName(err), zk.ErrNoChildrenForEphemerals.Error())
	p, err = c.CreateProtectedEphemeralSequential("/go/prot-", []byte("p"), acl)
	expect("protected", strings.HasPrefix(p, "/go/_c_") && strings.HasSuffix(p, "-prot-0000000007") && err == nil, "true")

	// ---- watches: ChildrenW, ExistsW, GetW; session close fires them
	_, _, chw, err := c.ChildrenW("/go")
	expect("childrenw", errName(err), "ok")
	_, _, exw, _ := c.ExistsW("/go/eph")
	_, _, exmissing, _ := c.ExistsW("/go/later")
	_, _, gw, _ := c.GetW("/go/x")
	c2.Close()
	expect("event.children", waitEvent(chw, 5*time.Second), "EventNodeChildrenChanged /go")
	expect("event.exists.deleted", waitEvent(exw, 5*time.Second), "EventNodeDeleted /go/eph")
	c.Create("/go/later", nil, 0, acl)
	expect("event.exists.created", waitEvent(exmissing, 5*time.Second), "EventNodeCreated /go/later")
	c.Set("/go/x", []byte("2"), -1)
	expect("event.data", waitEvent(gw, 5*time.Second), "EventNodeDataChanged /go/x")
	// one-shot: the client closes the channel after its one event
	c.Set("/go/x", []byte("3"), -1)
	expect("event.oneshot", waitEvent(gw, 300*time.Millisecond), "closed")
	kids, _, _ = c.Children("/go")
	sort.Strings(kids)
	expect("children.after-close", normProtected(kids), "[_c_<guid>-prot-0000000007 big later s-0000000003 s-0000000004 x]")

	// ---- multi
	res, err := c.Multi(
		&zk.CreateRequest{Path: "/go/m", Data: []byte("m"), Acl: acl},
		&zk.SetDataRequest{Path: "/go/m", Data: []byte("m2"), Version: 0},
		&zk.CheckVersionRequest{Path: "/go/m", Version: 1},
		&zk.CreateRequest{Path: "/go/m/s-", Acl: acl, Flags: zk.FlagSequence},
		&zk.DeleteRequest{Path: "/go/later", Version: -1})
	var rs []string
	for _, r := range res {
		rs = append(rs, fmt.Sprintf("%q/%s/%s", r.String, statOrNil(r.Stat), errName(r.Error)))
	}
	expect("multi.ok", errName(err)+" "+strings.Join(rs, " | "),
		`ok "/go/m"/-/ok | ""/v=1/ok | ""/-/ok | "/go/m/s-0000000000"/-/ok | ""/-/ok`)
	res, err = c.Multi(
		&zk.CreateRequest{Path: "/go/m2", Acl: acl},
		&zk.CheckVersionRequest{Path: "/go/m", Version: 0},
		&zk.DeleteRequest{Path: "/go/x", Version: -1})
	rs = nil
	for _, r := range res {
		rs = append(rs, errName(r.Error))
	}
	expect("multi.fail", errName(err)+" "+strings.Join(rs, " | "),
		zk.ErrBadVersion.Error()+" ok | "+zk.ErrBadVersion.Error()+" | zk: unknown error") // -2 RUNTIMEINCONSISTENCY
	ok, _, _ = c.Exists("/go/m2")
	expect("multi.fail.atomic", ok, "false")

	// ---- ACLs and auth
	_, err = c.Create("/go/acl", []byte("secret"), 0, zk.DigestACL(zk.PermAll, "user", "pw"))
	expect("acl.create", errName(err), "ok")
	_, _, err = c.Get("/go/acl")
	expect("acl.noauth", errName(err), zk.ErrNoAuth.Error())
	acls, st, err := c.GetACL("/go/acl")
	// getACL needs READ or ADMIN permission in 3.8
	expect("acl.get", fmt.Sprintf("%v %s", acls, errName(err)), "[] "+zk.ErrNoAuth.Error())
	expect("auth.bad-scheme", errName(c.AddAuth("nosuchscheme", []byte("x"))) != "ok", "true")
	c3, _ := connect(hosts, 10*time.Second, nil)
	expect("auth.add", errName(c3.AddAuth("digest", []byte("user:pw"))), "ok")
	data, _, err = c3.Get("/go/acl")
	expect("acl.authed", string(data)+" "+errName(err), "secret ok")
	_, err = c3.SetACL("/go/acl", zk.WorldACL(zk.PermRead), 0)
	expect("acl.set", errName(err), "ok")
	_, err = c3.Set("/go/acl", []byte("no"), -1)
	expect("acl.readonly", errName(err), zk.ErrNoAuth.Error())
	_, err = c3.Create("/go/authacl", nil, 0, zk.AuthACL(zk.PermAll))
	expect("acl.authacl", errName(err), "ok")
	acls, _, _ = c3.GetACL("/go/authacl")
	expect("acl.authacl.get", acls, "[{31 digest user:2Om+GBbT2q/tS6pdvACZbbm7/1A=}]")
	_, err = c.Create("/go/badacl", nil, 0, zk.AuthACL(zk.PermAll))
	expect("acl.authacl.noauth", errName(err), zk.ErrInvalidACL.Error())
	c3.Close()
	p, err = c.Sync("/go")
	expect("sync", p+" "+errName(err), "/go ok")

	// ---- session expiry: cut the connection and refuse to reconnect for
	// longer than the (minimum, 4 s) session timeout; both servers expire
	// sessions on tickTime boundaries, so up to ~6 s after the last ping
	g := &gate{}
	ce, evs := connect(hosts, 4*time.Second, g.dial)
	ce.Create("/go/short", nil, zk.FlagEphemeral, acl)
	_, _, ew, _ := ce.ExistsW("/go/short")
	g.setClosed(true)
	ok = false
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		if e, _, _ := c.Exists("/go/short"); !e {
			ok = true
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	expect("expiry.ephemeral-gone", ok, "true")
	g.setClosed(false)
	var states []string
	deadline := time.After(10 * time.Second)
loop:
	for {
		select {
		case e := <-evs:
			if e.Type == zk.EventSession && e.State != zk.StateConnecting && e.State != zk.StateDisconnected {
				states = append(states, e.State.String())
			}
			if e.State == zk.StateExpired {
				break loop
			}
		case <-deadline:
			break loop
		}
	}
	expect("expiry.states", states, "[StateConnected StateExpired]")
	expect("expiry.watch", waitEvent(ew, 2*time.Second), "EventNotWatching /go/short")
	ce.Close()
	c.Close()
	fmt.Printf("failures = %d\n", failures)
	if failures != 0 {
		os.Exit(1)
	}
}

// normProtected replaces the random GUID of protected names with "<guid>".
func normProtected(kids []string) []string {
	out := make([]string, len(kids))
	for i, k := range kids {
		if strings.HasPrefix(k, "_c_") {
			k = "_c_<guid>" + k[strings.Index(k, "-"):]
		}
		out[i] = k
	}
	return out
}

func statOrNil(s *zk.Stat) string {
	if s == nil {
		return "-"
	}
	return fmt.Sprintf("v=%d", s.Version)
}
