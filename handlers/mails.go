package handlers

// Mails are written by mailtext (s.mails) and queued by the application layer inside its transactions.

// link builds an absolute URL from the configured base URL, never from the request's Host header.
func (s *Server) link(path string) string { return s.mails.Link(path) }
