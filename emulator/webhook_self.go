package emulator

// webhookSelf returns the addresses of the listeners that serve an environment: its parent's,
// since environments are served by the default organisation's listeners. The default
// organisation's dispatcher records its own listeners as they start.
func (s *Server) webhookSelf() []string {
	if s.root == nil || s.root == s {
		return nil
	}
	return s.root.hooks.ListenAddrs()
}
