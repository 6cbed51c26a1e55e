package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// runLoop: one OS thread, one epoll set, non-blocking sockets outside Go's network poller.
func runLoop(ctx context.Context, name string, clients int, d time.Duration, l Loop) Result {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	const generator = "one epoll loop (as wrk -t1)"
	conns := make([]*loopConn, clients)
	for w := range conns {
		conns[w] = &loopConn{w: w, ans: answer{remain: -1}}
	}
	failAll := func(err error) Result {
		for _, c := range conns {
			c.fail(err)
		}
		return loopResult(name, generator, conns, 0)
	}
	addr, err := net.ResolveTCPAddr("tcp", l.Addr)
	if err != nil {
		return failAll(err)
	}
	ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return failAll(err)
	}
	defer unix.Close(ep)
	fds := make([]int, clients)
	byFD := map[int]*loopConn{}
	for w := range fds {
		fd, err := dialNonblocking(addr)
		if err != nil {
			return failAll(err)
		}
		defer unix.Close(fd)
		fds[w] = fd
		byFD[fd] = conns[w]
		if err := unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)}); err != nil {
			return failAll(err)
		}
	}
	open := clients
	// stop ends a connection's work: nothing more is read from it (a server closing it later must not
	// wake the loop).
	stop := func(c *loopConn) {
		if !c.done {
			c.done = true
			open--
			unix.EpollCtl(ep, unix.EPOLL_CTL_DEL, fds[c.w], nil)
		}
	}
	send := func(c *loopConn) {
		b := l.Next(c.w).Wire(l.Addr)
		c.start = time.Now()
		n, err := unix.Write(fds[c.w], b)
		if err == nil && n < len(b) {
			err = fmt.Errorf("short write of a request: %d of %d bytes", n, len(b))
		}
		if err != nil {
			c.lost(time.Now(), err)
			stop(c)
		}
	}
	start := time.Now()
	end := start.Add(d)
	for _, c := range conns {
		send(c)
	}
	buf := make([]byte, 64<<10)
	events := make([]unix.EpollEvent, clients)
	var next []*loopConn
	wait := min(time.Second, requestTimeout/10)
	swept := start
	for open > 0 {
		if ctx.Err() != nil {
			break
		}
		n, err := unix.EpollWait(ep, events, max(1, int(wait.Milliseconds())))
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return failAll(err)
		}
		for _, ev := range events[:n] {
			c := byFD[int(ev.Fd)]
			if c.done {
				continue
			}
			m, err := unix.Read(int(ev.Fd), buf)
			if errors.Is(err, unix.EAGAIN) {
				continue
			}
			if err == nil && m == 0 {
				err = errors.New("the server closed the connection")
			}
			var complete bool
			if err == nil {
				complete, err = c.ans.feed(buf[:m])
			}
			if err != nil {
				c.lost(time.Now(), err)
				stop(c)
				continue
			}
			if !complete {
				continue
			}
			if c.finish(time.Now(), end, l.Want) {
				next = append(next, c)
			} else {
				stop(c)
			}
		}
		// As wrk does, the next requests go out once every answer of this wake-up is read: a request
		// is timed from its write, and the answers read after it are not part of its time.
		for _, c := range next {
			send(c)
		}
		next = next[:0]
		// Every open connection has a request out; one unanswered too long is given up.
		if now := time.Now(); now.Sub(swept) >= wait {
			swept = now
			for _, c := range conns {
				if !c.done && now.Sub(c.start) > requestTimeout {
					c.lost(now, errTimeout)
					stop(c)
				}
			}
		}
	}
	// Cut off by ctx: the requests still out fail, as Run's do when their context ends.
	now := time.Now()
	for _, c := range conns {
		if !c.done {
			c.lost(now, ctx.Err())
		}
	}
	return loopResult(name, generator, conns, now.Sub(start))
}

// dialNonblocking connects a TCP socket (blocking, on loopback that is immediate), then makes it
// non-blocking and turns Nagle's algorithm off, as net.Dial would.
func dialNonblocking(addr *net.TCPAddr) (int, error) {
	family, sa := unix.AF_INET, unix.Sockaddr(nil)
	if ip4 := addr.IP.To4(); ip4 != nil {
		sa = &unix.SockaddrInet4{Port: addr.Port, Addr: [4]byte(ip4)}
	} else {
		family = unix.AF_INET6
		sa = &unix.SockaddrInet6{Port: addr.Port, Addr: [16]byte(addr.IP.To16())}
	}
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	if err := unix.Connect(fd, sa); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("connect %s: %w", addr, err)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return -1, err
	}
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}
