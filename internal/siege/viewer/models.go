package viewer

import "github.com/rempart/rempart/internal/siege/sim"

// Models returns the legitimate client models by their scenario names.
func Models() map[string]sim.Model {
	return map[string]sim.Model{
		"live-viewer":       live{},
		"ondemand-listener": ondemand{},
		"app-user":          app{},
	}
}
