package handlers

import (
	"strings"

	"portier/i18n"
)

// deviceName describes a session's browser and system from its user agent, as "Firefox on Windows".
// A small parser on purpose: the list only has to help a person recognise their own devices.
func deviceName(l *i18n.Localizer, ua string) string {
	browser, system := parseUserAgent(ua)
	if browser == "" && system == "" {
		return l.T("profile.sessions.unknown_device")
	}
	if browser == "" {
		browser = l.T("profile.sessions.unknown_browser")
	}
	if system == "" {
		system = l.T("profile.sessions.unknown_os")
	}
	return l.T("profile.sessions.device", "browser", browser, "os", system)
}

// parseUserAgent names the browser and operating system of a user agent ("" when unknown). Order
// matters: Edge and Opera also say Chrome, Chrome also says Safari, iPads also say Mac OS X.
func parseUserAgent(ua string) (browser, system string) {
	has := func(subs ...string) bool {
		for _, s := range subs {
			if strings.Contains(ua, s) {
				return true
			}
		}
		return false
	}
	switch {
	case has("Edg/", "EdgA/", "EdgiOS/"):
		browser = "Edge"
	case has("OPR/", "Opera"):
		browser = "Opera"
	case has("SamsungBrowser/"):
		browser = "Samsung Internet"
	case has("Vivaldi/"):
		browser = "Vivaldi"
	case has("Firefox/", "FxiOS/"):
		browser = "Firefox"
	case has("Chromium/"):
		browser = "Chromium"
	case has("Chrome/", "CriOS/"):
		browser = "Chrome"
	case has("Safari/") && has("Version/"):
		browser = "Safari"
	}
	switch {
	case has("Windows"):
		system = "Windows"
	case has("iPhone", "iPad", "iPod"):
		system = "iOS"
	case has("Android"):
		system = "Android"
	case has("CrOS"):
		system = "ChromeOS"
	case has("Macintosh", "Mac OS X"):
		system = "macOS"
	case has("Linux", "X11"):
		system = "Linux"
	}
	return browser, system
}
