//go:build !linux

package bench

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"
)

// runLoop without epoll: a goroutine per connection, reading and writing it directly.
func runLoop(ctx context.Context, name string, clients int, d time.Duration, l Loop) Result {
	conns := make([]*loopConn, clients)
	start := time.Now()
	end := start.Add(d)
	var wg sync.WaitGroup
	for w := range conns {
		c := &loopConn{w: w, ans: answer{remain: -1}}
		conns[w] = c
		wg.Go(func() {
			nc, err := net.Dial("tcp", l.Addr)
			if err != nil {
				c.fail(err)
				return
			}
			defer nc.Close()
			// Cut off by ctx: the request still out fails, as Run's does when its context ends.
			defer context.AfterFunc(ctx, func() { nc.Close() })()
			buf := make([]byte, 64<<10)
			for ctx.Err() == nil {
				c.start = time.Now()
				if err := nc.SetDeadline(c.start.Add(requestTimeout)); err != nil {
					c.lost(time.Now(), err)
					return
				}
				if _, err := nc.Write(l.Next(w).Wire(l.Addr)); err != nil {
					c.lost(time.Now(), err)
					return
				}
				for complete := false; !complete; {
					n, err := nc.Read(buf)
					if err == nil && n == 0 {
						err = errors.New("the server closed the connection")
					}
					if err == nil {
						complete, err = c.ans.feed(buf[:n])
					}
					if err != nil {
						c.lost(time.Now(), err)
						return
					}
				}
				if !c.finish(time.Now(), end, l.Want) {
					return
				}
			}
		})
	}
	wg.Wait()
	return loopResult(name, "a goroutine per connection (no epoll here)", conns, time.Since(start))
}
