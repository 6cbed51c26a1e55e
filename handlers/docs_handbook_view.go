package handlers

import (
	"portier/db"
	"portier/docs"
	"portier/views"
)

// handbookItem is one item's card in the emergency handbook: every filled field, formatted by text as on
// the item's page (options translated, dates localized, contacts by name), and its secrets when they were
// asked for (secrets: field → value, a TOTP seed already turned into its current code). Empty fields are
// left out — paper is for what is known, and a field that does not apply to the item's kind (a user name
// for a WireGuard tunnel) is always empty.
func handbookItem(area *docs.Area, it *db.DocItem, secrets map[string]string, text func(docs.Field) string) views.HandbookItem {
	hi := views.HandbookItem{Name: it.Name}
	for _, f := range area.Fields {
		switch {
		case f.Name == "name":
			continue
		case f.IsSecret():
			if v := secrets[f.Name]; v != "" {
				hi.Fields = append(hi.Fields, views.HandbookField{LabelKey: f.LabelKey(area.Name), Text: v, Secret: true, Pre: f.Kind == docs.SecretText})
			}
		case it.Fields[f.Name] != "":
			if v := text(f); v != "" {
				hi.Fields = append(hi.Fields, views.HandbookField{LabelKey: f.LabelKey(area.Name), Text: v, Pre: f.Kind == docs.LongText})
			}
		}
	}
	return hi
}
