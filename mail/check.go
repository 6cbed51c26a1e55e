package mail

import "context"

// Check connects to the mail server the way Send does — TLS or STARTTLS as configured, EHLO, and AUTH when
// the URL has credentials — and says goodbye without sending anything. For `portier doctor`.
func (s *SMTP) Check(ctx context.Context) error {
	c, err := s.client()
	if err != nil {
		return err
	}
	if err := c.DialWithContext(ctx); err != nil {
		return err
	}
	return c.Close()
}
