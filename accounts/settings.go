package accounts

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"portier/db"
)

// Settings are what MSP administrators set in the portal: the name and support contact every page and
// mail shows, and how long an invitation works.
type Settings struct {
	MSPName, SupportEmail, SupportPhone string
	InviteDays                          int
	// Logo is a new logo's PNG, made by avatar.Processor.Logo (nothing of the upload but its pixels); nil
	// keeps the current one.
	Logo []byte
}

// SaveSettings stores the settings that differ from old, in one transaction with their audit entry
// (none when nothing changed). The settings page and the first administrator's setup step both save
// here; either way the MSP counts as named from then on (db.SettingMSPSetup). The caller validated the form
// (MSPProblems) and reloads what it shows (mailtext.LoadMSP).
func (a *Accounts) SaveSettings(ctx context.Context, old, s Settings, actor db.AuditEntry) error {
	var changed []string
	oldLogo, err := a.db.Setting(ctx, db.SettingLogoName, "")
	if err != nil {
		return err
	}
	return a.db.Tx(ctx, func(tx *sql.Tx) error {
		kvs := []struct{ key, old, new string }{
			{"msp.name", old.MSPName, s.MSPName},
			{"msp.support_email", old.SupportEmail, s.SupportEmail},
			{"msp.support_phone", old.SupportPhone, s.SupportPhone},
			{"invite.ttl_days", strconv.Itoa(old.InviteDays), strconv.Itoa(s.InviteDays)},
		}
		if s.Logo != nil {
			// Served under a name made of its hash, so browsers keep it for a year and a new logo is a
			// new address.
			sum := sha256.Sum256(s.Logo)
			if err := db.SetSettingTx(ctx, tx, db.SettingLogo, base64.StdEncoding.EncodeToString(s.Logo)); err != nil {
				return err
			}
			kvs = append(kvs, struct{ key, old, new string }{db.SettingLogoName, oldLogo, hex.EncodeToString(sum[:6]) + ".png"})
		}
		for _, kv := range kvs {
			if kv.old == kv.new {
				continue
			}
			if err := db.SetSettingTx(ctx, tx, kv.key, kv.new); err != nil {
				return err
			}
			changed = append(changed, kv.key+": "+kv.new)
		}
		if err := db.SetSettingTx(ctx, tx, db.SettingMSPSetup, "1"); err != nil {
			return err
		}
		if len(changed) == 0 {
			return nil
		}
		actor.Action, actor.Target = "settings.update", strings.Join(changed, "; ")
		return a.db.Audit(ctx, tx, actor)
	})
}

// InviteDays is the invitation lifetime in whole days, as the settings page shows it.
func (a *Accounts) InviteDays(ctx context.Context) int {
	return int(a.InviteTTL(ctx) / (24 * time.Hour))
}

// PublishTerms publishes a new version of the terms of use (texts validated by the caller); everyone is
// asked to accept it again at their next request.
func (a *Accounts) PublishTerms(ctx context.Context, by *db.User, de, en string, actor db.AuditEntry) (int, error) {
	version, err := a.db.PublishTerms(ctx, de, en, by.ID)
	if err != nil {
		return 0, err
	}
	actor.Action, actor.Target = "terms.publish", strconv.Itoa(version)
	a.audits.Record(ctx, actor)
	return version, nil
}
