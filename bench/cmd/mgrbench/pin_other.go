//go:build !linux

package main

import "fmt"

// pinning is Linux-only (sched_setaffinity); elsewhere -pin must be off or auto.
type pinning struct{}

func newPinning(spec string) (*pinning, error) {
	if spec == "off" || spec == "auto" || spec == "" {
		return nil, nil
	}
	return nil, fmt.Errorf("-pin %q: CPU pinning needs Linux", spec)
}

func (p *pinning) String() string   { return "off" }
func (p *pinning) goEnv() []string  { return nil }
func (p *pinning) pin(pids []int)   {}
func (p *pinning) unpin(pids []int) {}
