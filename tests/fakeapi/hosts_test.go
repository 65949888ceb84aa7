package fakeapi

import (
	"slices"
	"testing"
)

func TestHosts(t *testing.T) {
	tests := []struct {
		provider Provider
		region   string
		want     []string
	}{
		{Anthropic, "", []string{"api.anthropic.com", "platform.claude.com"}},
		{Vertex, "us-east5", []string{"us-east5-aiplatform.googleapis.com", "oauth2.googleapis.com"}},
		{Vertex, "global", []string{"aiplatform.googleapis.com", "oauth2.googleapis.com"}},
		{Bedrock, "eu-central-1", []string{"bedrock-runtime.eu-central-1.amazonaws.com", "bedrock.eu-central-1.amazonaws.com"}},
		{"openai", "", nil},
	}
	for _, tt := range tests {
		t.Run(string(tt.provider)+"/"+tt.region, func(t *testing.T) {
			if got := Hosts(tt.provider, tt.region); !slices.Equal(got, tt.want) {
				t.Errorf("Hosts(%q, %q) = %v, want %v", tt.provider, tt.region, got, tt.want)
			}
		})
	}
}

func TestIsVertexHost(t *testing.T) {
	tests := []struct {
		host string
		want bool
	}{
		{"aiplatform.googleapis.com", true},
		{"us-east5-aiplatform.googleapis.com", true},
		{"europe-west1-aiplatform.googleapis.com", true},
		{"-aiplatform.googleapis.com", false},
		{"evil.com-aiplatform.googleapis.com", false},
		{"aiplatform.googleapis.com.evil.com", false},
		{"oauth2.googleapis.com", false},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			if got := IsVertexHost(tt.host); got != tt.want {
				t.Errorf("IsVertexHost(%q) = %t, want %t", tt.host, got, tt.want)
			}
		})
	}
}

func TestEnv(t *testing.T) {
	s := NewServer(DefaultReply)
	s.APIKey = "sk-ant-other"
	tests := []struct {
		provider Provider
		region   string
		want     []string
	}{
		{Anthropic, "", []string{"ANTHROPIC_API_KEY=sk-ant-other"}},
		{Vertex, "global", []string{"CLAUDE_CODE_USE_VERTEX=1", "CLOUD_ML_REGION=global", "ANTHROPIC_VERTEX_PROJECT_ID=" + DefaultProject}},
		{Bedrock, "us-east-1", nil},
	}
	for _, tt := range tests {
		t.Run(string(tt.provider), func(t *testing.T) {
			if got := s.Env(tt.provider, tt.region); !slices.Equal(got, tt.want) {
				t.Errorf("Env(%q, %q) = %v, want %v", tt.provider, tt.region, got, tt.want)
			}
		})
	}
}
