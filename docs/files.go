package docs

import (
	"errors"
	"net/http"
	"strings"
)

// ErrFileType: a file whose content is not on the allow-list.
var ErrFileType = errors.New("file type not allowed")

// fileTypes is the allow-list of what attachments may be, as http.DetectContentType names their content
// (never what the browser or the file name claims), with the translation key of each kind. Text covers
// configurations and exports; HTML is not text here (it would be a page of ours if ever shown inline).
var fileTypes = map[string]string{
	"application/pdf":              "files.type.pdf",
	"image/png":                    "files.type.image",
	"image/jpeg":                   "files.type.image",
	"image/gif":                    "files.type.image",
	"image/webp":                   "files.type.image",
	"text/plain; charset=utf-8":    "files.type.text",
	"text/plain; charset=utf-16be": "files.type.text",
	"text/plain; charset=utf-16le": "files.type.text",
	"text/xml; charset=utf-8":      "files.type.text",
	"application/x-gzip":           "files.type.archive",
	"application/zip":              "files.type.archive",
}

// FileType judges a file by its first bytes (up to 512 are looked at) and returns the content type to
// store, or ErrFileType. Every attachment, from the web or the command line, is checked here.
func FileType(head []byte) (string, error) {
	if len(head) == 0 {
		return "", ErrFileType
	}
	ct := http.DetectContentType(head)
	if _, ok := fileTypes[ct]; !ok {
		return "", ErrFileType
	}
	return ct, nil
}

// IsPicture reports whether a file's first bytes (512 are enough) sniff as a picture, as FileType judges.
func IsPicture(head []byte) bool { return strings.HasPrefix(http.DetectContentType(head), "image/") }

// FileTypeKey is the translation key naming a stored content type's kind.
func FileTypeKey(ct string) string {
	if k, ok := fileTypes[ct]; ok {
		return k
	}
	return "files.type.other"
}

// InlineType: pictures and PDFs may be shown in the browser; everything else is only downloaded.
func InlineType(ct string) bool {
	return ct == "application/pdf" || strings.HasPrefix(ct, "image/")
}

// ServedType is the Content-Type a file is sent with: text of any kind as plain text, so nothing stored
// is ever interpreted as markup.
func ServedType(ct string) string {
	if strings.HasPrefix(ct, "text/") {
		return strings.Replace(ct, "text/xml", "text/plain", 1)
	}
	return ct
}
