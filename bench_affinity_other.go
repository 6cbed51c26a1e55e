//go:build !linux

package main

import (
	"errors"
	"os/exec"
)

var errNoAffinity = errors.New("CPU pinning needs Linux")

func allowedCPUs() ([]int, error)                 { return nil, errNoAffinity }
func pinProcess([]int) error                      { return errNoAffinity }
func startPinned(cmd *exec.Cmd, cpus []int) error { return errNoAffinity }
