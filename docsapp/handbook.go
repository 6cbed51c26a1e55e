package docsapp

import (
	"context"
	"database/sql"

	"portier/db"
	"portier/docs"
)

// Handbook is every area of an organisation as the viewer sees it, for printing.
type Handbook struct {
	WithSecrets bool
	Sections    []HandbookSection
}

// HandbookSection is one area.
type HandbookSection struct {
	Area     *docs.Area
	Items    []*db.DocItem
	Contacts map[string]string           // names of the organisation's contacts, by id
	Secrets  map[int64]map[string]string // item → field → value (a TOTP seed as its current code); with secrets only
}

// Handbook collects the emergency handbook. Secrets are in it only on an explicit choice (withSecrets):
// each secret printed gets an audit entry of its own (item and field), plus one for the handbook, all
// written in one transaction before the handbook is returned, so no handbook with secrets exists without
// its entries. A stored TOTP seed is printed as its current code, never as the seed. areas are the areas
// to print, in order, as the MSP has them (with its custom fields).
func (s *Service) Handbook(ctx context.Context, v *Viewer, areas []*docs.Area, withSecrets bool) (*Handbook, error) {
	h := &Handbook{WithSecrets: withSecrets}
	var printed []db.AuditEntry
	for _, area := range areas {
		contacts, err := s.contactNames(ctx, v, area)
		if err != nil {
			return nil, err
		}
		sec := HandbookSection{Area: area, Contacts: contacts}
		if withSecrets {
			sec.Secrets = map[int64]map[string]string{}
		}
		err = s.eachItem(ctx, v, area, func(it *db.DocItem) error {
			sec.Items = append(sec.Items, it)
			if !withSecrets {
				return nil
			}
			for _, f := range area.Secrets() {
				if !it.Secrets[f.Name] {
					continue
				}
				val, err := s.open(ctx, v, area, it.ID, f.Name)
				if err != nil {
					return err
				}
				if f.Kind == docs.TOTPSeed {
					if val, _, err = s.currentCode(val); err != nil {
						return err
					}
				}
				if sec.Secrets[it.ID] == nil {
					sec.Secrets[it.ID] = map[string]string{}
				}
				sec.Secrets[it.ID][f.Name] = val
				printed = append(printed, v.secretEntry("docs.handbook_reveal", area, it, f.Name))
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		h.Sections = append(h.Sections, sec)
	}
	if withSecrets {
		err := s.db.Tx(ctx, func(tx *sql.Tx) error {
			for _, e := range printed {
				if err := s.db.Audit(ctx, tx, e); err != nil {
					return err
				}
			}
			return s.db.Audit(ctx, tx, v.entry("docs.handbook_secrets", v.Org.Name))
		})
		if err != nil {
			return nil, err
		}
	}
	return h, nil
}
