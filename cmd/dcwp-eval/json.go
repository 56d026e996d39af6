package main

import "github.com/dcwp-go/dcwp/rundir"

func writeJSON(path string, v any) error { return rundir.WriteJSON(path, v) }
