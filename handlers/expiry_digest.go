package handlers

import (
	"context"
	"net/http"
	"net/mail"
	"strconv"
	"strings"

	"github.com/labstack/echo/v5"

	"portier/db"
	"portier/i18n"
)

// What expires next, by mail (expiry.go is the page): who gets the weekly digest, and its sending.

// maxDigestRecipients bounds the list: the digest is for the few people who renew things.
const maxDigestRecipients = 10

// expiryDigestSave stores who gets the organisation's weekly digest (its managers and staff decide).
func (s *Server) expiryDigestSave(c *echo.Context) error {
	org, _ := currentOrg(c)
	dg := db.ExpiryDigest{OrgID: org.ID, Lang: c.FormValue("lang")}
	if !i18n.Supported(dg.Lang) {
		dg.Lang = i18n.Default
	}
	for _, line := range strings.FieldsFunc(c.FormValue("recipients"), func(r rune) bool { return r == '\n' || r == ',' || r == ';' || r == ' ' || r == '\r' }) {
		a, err := mail.ParseAddress(line)
		if err != nil || a.Address != line || !strings.Contains(line[strings.LastIndexByte(line, '@'):], ".") {
			return s.renderExpiryPage(c, http.StatusUnprocessableEntity, map[string]string{"recipients": "expiry.digest.err_address"})
		}
		dg.Recipients = append(dg.Recipients, db.NormalizeEmail(line))
	}
	if len(dg.Recipients) > maxDigestRecipients {
		return s.renderExpiryPage(c, http.StatusUnprocessableEntity, map[string]string{"recipients": "expiry.digest.err_many"})
	}
	ctx := c.Request().Context()
	err := s.db.SetExpiryDigest(ctx, dg, func(tx dbTx) error {
		return s.db.Audit(ctx, tx, s.auditEntry(c, org.ID, "expiry.digest", strconv.Itoa(len(dg.Recipients))))
	})
	if err != nil {
		return err
	}
	s.sm.Put(ctx, keyFlash, "expiry.digest.saved")
	return s.redirect(c, "/o/"+org.Slug+"/expiry")
}

// SendExpiryDigests sends each organisation's digest that is due (last sent a week ago or never): what
// its customers may see of what expired or expires within 30 days, in the organisation's chosen language,
// through the outbox. An organisation with nothing to report is marked as done without a mail. It
// returns how many mails were queued. The scheduler (digest_scheduler.go) calls it every hour.
func (s *Server) SendExpiryDigests(ctx context.Context) (int, error) {
	now := s.now()
	due, err := s.db.DueExpiryDigests(ctx, now.Add(-digestEvery))
	if err != nil {
		return 0, err
	}
	queued := 0
	for _, dg := range due {
		org, err := s.db.OrgByID(ctx, dg.OrgID)
		if err != nil {
			return queued, err
		}
		l := s.i18n.For(dg.Lang, "")
		entries, labels, err := s.expiryEntries(ctx, db.ExpiryScope{OrgID: org.ID}, l.TZ)
		if err != nil {
			return queued, err
		}
		entries = filterExpiries(entries, "30", now, l.TZ)
		sortExpiries(entries, "date", false, nil)
		n := 0
		_, err = s.db.ClaimExpiryDigest(ctx, dg, func(tx dbTx) error {
			if len(entries) == 0 {
				return nil
			}
			to, err := db.ExpiryDigestReach(ctx, tx, org.ID, dg.Recipients)
			if err != nil {
				return err
			}
			n = len(to)
			for _, to := range to {
				m, l := s.mails.Start(dg.Lang, "", "mail.expiry_digest.subject", "org", org.Name)
				m.Paragraphs = append(m.Paragraphs, l.N(pluralDigestIntro, len(entries), "org", org.Name))
				for _, e := range entries {
					m.Paragraphs = append(m.Paragraphs, l.T("mail.expiry_digest.line", "date", l.Date(e.Date), "kind", l.T(labels[e.Source]),
						"name", e.Name, "left", leftText(l, daysUntil(now, e.Date, l.TZ))))
				}
				m.ButtonText, m.ButtonURL = l.T("mail.expiry_digest.button"), s.link("/o/"+org.Slug+"/expiry?window=30")
				m.After = []string{l.T("mail.expiry_digest.why")}
				if err := s.enqueue(ctx, tx, to, m); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return queued, err
		}
		queued += n
	}
	if queued > 0 {
		s.wakeMailer()
	}
	return queued, nil
}
