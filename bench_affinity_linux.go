package main

import (
	"errors"
	"os"
	"os/exec"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"
)

// allowedCPUs is the set of CPUs this process may run on (taskset, cgroup cpusets), in order.
func allowedCPUs() ([]int, error) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return nil, err
	}
	var cpus []int
	for i := range len(set) * 64 {
		if set.IsSet(i) {
			cpus = append(cpus, i)
		}
	}
	return cpus, nil
}

func cpuSet(cpus []int) *unix.CPUSet {
	var set unix.CPUSet
	for _, c := range cpus {
		set.Set(c)
	}
	return &set
}

// pinProcess keeps every thread of this process on cpus. The mask is per thread; threads the runtime starts
// later inherit it from the (pinned) thread that starts them. A second pass catches a thread started while
// the first one ran.
func pinProcess(cpus []int) error {
	set := cpuSet(cpus)
	for range 2 {
		tasks, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return err
		}
		for _, t := range tasks {
			tid, err := strconv.Atoi(t.Name())
			if err != nil {
				continue
			}
			if err := unix.SchedSetaffinity(tid, set); err != nil && err != unix.ESRCH {
				return err
			}
		}
	}
	return nil
}

// startPinned starts cmd on cpus only. The child inherits the CPU mask of the thread that forks it, so the
// fork runs on a goroutine locked to a thread that is given that mask for the fork and its own mask back
// afterwards (then unlocked): no other goroutine ever runs on the thread while it has the server's mask.
// (Ending the goroutine still locked would not do: on the main thread the runtime keeps the thread, and
// the process's main thread would keep the server's mask.)
func startPinned(cmd *exec.Cmd, cpus []int) error {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		var own unix.CPUSet
		if err := unix.SchedGetaffinity(0, &own); err != nil {
			done <- err // still locked: the runtime ends (or parks) this thread, its mask unchanged
			return
		}
		if err := unix.SchedSetaffinity(0, cpuSet(cpus)); err != nil {
			done <- err
			return
		}
		err := cmd.Start()
		if rerr := unix.SchedSetaffinity(0, &own); rerr != nil {
			done <- errors.Join(err, rerr) // stays locked, so the mask spreads nowhere
			return
		}
		runtime.UnlockOSThread()
		done <- err
	}()
	return <-done
}
