package handlers

import (
	"portier/docs"
	"portier/views"
)

// warrantyHighlight is a warranty state's CSS modifier and the words that say it (the colour only
// repeats them): "" for a warranty that is still good.
func warrantyHighlight(state string) (string, string) {
	switch state {
	case docs.WarrantyOver:
		return state, "docs.warranty_over"
	case docs.WarrantySoon:
		return state, "docs.warranty_soon"
	}
	return "", ""
}

// warrantyFilter is the warranty filter of a configurations list (f.warranty_end = over, soon or valid;
// docsapp.List applies it) with cur chosen, nil for other areas.
func warrantyFilter(r *docReq, cur string) *views.Filter {
	f, ok := r.area.Field("warranty_end")
	if !ok {
		return nil
	}
	flt := &views.Filter{Name: f.Name, LabelKey: "docs.warranty.filter"}
	for _, o := range []views.FilterOption{
		{Value: docs.WarrantyOver, LabelKey: "docs.warranty.state_over"},
		{Value: docs.WarrantySoon, LabelKey: "docs.warranty.state_soon"},
		{Value: docs.WarrantyValid, LabelKey: "docs.warranty.state_valid"},
	} {
		o.Selected = cur == o.Value
		flt.Options = append(flt.Options, o)
	}
	return flt
}
