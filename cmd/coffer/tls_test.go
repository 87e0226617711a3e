package main

import (
	"bytes"
	"log/slog"
	"net"
	"strings"
	"testing"

	"coffer/internal/config"
)

func TestWarnPlainHTTP(t *testing.T) {
	for _, tc := range []struct {
		ip        string
		publicURL string
		tls       bool
		warn      bool
	}{
		{"0.0.0.0", "http://0.0.0.0:8080", false, true},
		{"::", "http://[::]:8080", false, true},
		{"192.0.2.10", "http://192.0.2.10:8080", false, true},
		{"127.0.0.1", "http://127.0.0.1:8080", false, false},
		{"::1", "http://[::1]:8080", false, false},
		{"0.0.0.0", "https://artifacts.example.test", false, false}, // a TLS proxy in front
		{"0.0.0.0", "https://0.0.0.0:8080", true, false},
	} {
		var buf bytes.Buffer
		warnPlainHTTP(slog.New(slog.NewTextHandler(&buf, nil)), config.Config{PublicURL: tc.publicURL},
			&net.TCPAddr{IP: net.ParseIP(tc.ip), Port: 8080}, tc.tls)
		if got := strings.Contains(buf.String(), "level=WARN"); got != tc.warn {
			t.Errorf("%s %s tls=%v: warned %v, want %v: %s", tc.ip, tc.publicURL, tc.tls, got, tc.warn, buf.String())
		}
	}
}
