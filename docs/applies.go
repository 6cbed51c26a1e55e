package docs

// appliesTo lists, per area (by name: an area with custom fields is a copy) and field, the values of the area's "kind" field for which the field means
// something. A field not listed applies to every kind. A WireGuard tunnel has no user name, password or
// authentication method (its keys live in the configuration), so showing "not stored" for them only
// made people look for something that cannot exist.
var appliesTo = map[string]map[string][]string{
	"vpn": {
		"auth":     {"ipsec", "openvpn", "sslvpn", "other"},
		"username": {"ipsec", "openvpn", "sslvpn", "other"},
		"secret":   {"ipsec", "openvpn", "sslvpn", "other"},
		"config":   {"wireguard", "ipsec", "openvpn", "other"},
	},
}

// Applies reports whether the field means something for an item whose "kind" field is kind. An item
// without a kind (or an unknown one) shows every field.
func (a *Area) Applies(field, kind string) bool {
	kinds, ok := appliesTo[a.Name][field]
	if !ok || kind == "" {
		return true
	}
	known := false
	for _, o := range a.kindOptions() {
		known = known || o == kind
	}
	if !known {
		return true
	}
	for _, k := range kinds {
		if k == kind {
			return true
		}
	}
	return false
}

func (a *Area) kindOptions() []string {
	f, _ := a.Field("kind")
	return f.Options
}

// Shown reports whether a field of an item is shown on its page and in the handbook: when it applies
// to the item's kind, or holds a value anyway (kept from before the kind changed; never hide data).
func (a *Area) Shown(field, kind string, hasValue bool) bool {
	return hasValue || a.Applies(field, kind)
}
