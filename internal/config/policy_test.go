package config

import (
	"reflect"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/telemetry"
)

func TestPolicy(t *testing.T) {
	s := &Site{Classes: map[string]ClassPolicy{
		"segment":        {TTL: ptr(time.Hour), NegativeTTL: ptr(time.Duration(0))},
		"media_playlist": {QueryKeep: []string{"token", "b", "token", "a"}},
		"ondemand":       {QueryKeep: []string{"*"}},
		"api":            {QueryKeep: []string{}, StaleIfError: ptr(time.Minute)},
	}}
	withSegment := ClassDefaults[telemetry.ClassSegment]
	withSegment.TTL, withSegment.NegativeTTL = time.Hour, 0
	withMedia := ClassDefaults[telemetry.ClassMedia]
	withMedia.QueryKeep = []string{"a", "b", "token"}
	withOnDemand := ClassDefaults[telemetry.ClassOnDemand]
	withOnDemand.KeepAllQuery = true
	withAPI := ClassDefaults[telemetry.ClassAPI]
	withAPI.KeepAllQuery, withAPI.StaleIfError = false, time.Minute
	tests := []struct {
		class telemetry.Class
		want  Policy
	}{
		{telemetry.ClassMaster, ClassDefaults[telemetry.ClassMaster]},
		{telemetry.ClassSegment, withSegment},
		{telemetry.ClassMedia, withMedia},
		{telemetry.ClassOnDemand, withOnDemand},
		{telemetry.ClassAPI, withAPI},
		{telemetry.ClassUnknown, Policy{}},
		{telemetry.NumClasses, Policy{}},
	}
	for _, tt := range tests {
		t.Run(tt.class.String(), func(t *testing.T) {
			if got := s.Policy(tt.class); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Policy(%v) = %+v, want %+v", tt.class, got, tt.want)
			}
		})
	}
	all := s.Policies()
	for c := range telemetry.NumClasses {
		if !reflect.DeepEqual(all[c], s.Policy(c)) {
			t.Errorf("Policies()[%v] = %+v, want %+v", c, all[c], s.Policy(c))
		}
	}
}

func TestPolicySharesNoMemory(t *testing.T) {
	s := &Site{Classes: map[string]ClassPolicy{"api": {QueryKeep: []string{"b", "a"}}}}
	p := s.Policy(telemetry.ClassAPI)
	p.QueryKeep[0] = "changed"
	if got := s.Classes["api"].QueryKeep; got[0] != "b" || got[1] != "a" {
		t.Errorf("Policy changed the site's query_keep: %q", got)
	}
	if s.Policy(telemetry.ClassAPI).QueryKeep[0] != "a" {
		t.Error("a caller's change leaked into the next Policy")
	}
}

func TestPolicyNoClasses(t *testing.T) {
	var s Site
	if got := s.Policies(); !reflect.DeepEqual(got, ClassDefaults) {
		t.Errorf("Policies() = %+v, want ClassDefaults", got)
	}
}
