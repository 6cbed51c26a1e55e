package main

import (
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
// fork runs on a goroutine locked to a thread that is given that mask and never given back: the goroutine
// ends still locked, and the runtime then ends the thread rather than reuse it. While locked, the runtime
// starts no other thread from it (it asks its template thread instead), so the mask spreads nowhere else.
func startPinned(cmd *exec.Cmd, cpus []int) error {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := unix.SchedSetaffinity(0, cpuSet(cpus)); err != nil {
			done <- err
			return
		}
		done <- cmd.Start()
	}()
	return <-done
}
