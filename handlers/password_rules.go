package handlers

import (
	"context"
	"crypto/subtle"
	"maps"
	"slices"
	"strings"

	"portier/auth"
	"portier/db"
	"portier/views"
)

// The rule list beside every new-password field (first password, reset, profile, the live check): one
// builder, so the pages cannot drift apart.

// passwordRules checks pw (and its repetition) against the policy and returns the rule list to show and
// the rules that are not met; the match rule comes last. Before anything was typed (pw and repeat empty)
// the list shows the rules without ticks.
func (s *Server) passwordRules(pw, repeat string, p auth.Personal) (views.PasswordRulesView, []views.PasswordRule) {
	res := s.cfg.PasswordPolicy.Check(pw, p)
	v := views.PasswordRulesView{Empty: pw == "" && repeat == "", Strength: res.Strength, StrengthKey: res.StrengthKey()}
	if len(res.Rules) == 0 {
		for _, r := range s.cfg.PasswordPolicy.Rules() {
			res.Rules = append(res.Rules, auth.RuleResult{Rule: r})
		}
	}
	var unmet []views.PasswordRule
	add := func(r auth.Rule, met bool) {
		pr := views.PasswordRule{Key: r.Key, Met: met}
		// Sorted, so the message's arguments come out the same every time.
		for _, k := range slices.Sorted(maps.Keys(r.Args)) {
			pr.Args = append(pr.Args, k, r.Args[k])
		}
		v.Rules = append(v.Rules, pr)
		if !met {
			unmet = append(unmet, pr)
		}
	}
	for _, r := range res.Rules {
		add(r.Rule, r.Met)
	}
	add(auth.Rule{Key: auth.MatchKey}, samePassword(pw, repeat))
	return v, unmet
}

// samePassword reports whether the repetition matches a typed password, in constant time.
func samePassword(pw, repeat string) bool {
	return pw != "" && subtle.ConstantTimeCompare([]byte(pw), []byte(repeat)) == 1
}

// personalInfo is what a password must not be built from: the person's addresses and names, their
// organisations and the MSP's name.
func (s *Server) personalInfo(emails, names, orgs []string) auth.Personal {
	var p auth.Personal
	for _, e := range emails {
		if e != "" {
			p.Email = append(p.Email, e)
		}
	}
	for _, n := range names {
		if strings.TrimSpace(n) != "" {
			p.Name = append(p.Name, n)
		}
	}
	p.Org = append(append(p.Org, orgs...), s.msp.Load().Name)
	return p
}

// personalOf is personalInfo for a signed-in person: their address (and the one they asked to switch
// to), their name and their organisations.
func (s *Server) personalOf(ctx context.Context, u *db.User) (auth.Personal, error) {
	orgs, err := s.orgNames(ctx, u.ID)
	if err != nil {
		return auth.Personal{}, err
	}
	return s.personalInfo([]string{u.Email, u.PendingEmail}, []string{u.Name}, orgs), nil
}

// orgNames lists the names of the person's organisations.
func (s *Server) orgNames(ctx context.Context, uid int64) ([]string, error) {
	ms, err := s.db.Memberships(ctx, uid)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(ms))
	for _, m := range ms {
		out = append(out, m.Org.Name)
	}
	return out, nil
}
