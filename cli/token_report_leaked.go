package cli

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	pb "tokenauthority/gen/tokenauthority/v1"
)

// maxLeakReport is the server's limit on secrets per report.
const maxLeakReport = 1000

func (a *app) tokenReportLeakedCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "report-leaked [-]",
		Short: "Revoke leaked tokens: reads secrets from stdin, one a line (at most 1000)",
		Long: "Reports secrets found where they should not be; each that is a live token of the server is\n" +
			"revoked moments after the server answers (the answer means the report was taken). Needs no\n" +
			"service credential. The answer is the same whether or not any secret matched. Secrets are read\n" +
			"from stdin so that they stay out of ps and shell history.",
		Args: func(cmd *cobra.Command, argv []string) error {
			if len(argv) > 1 || len(argv) == 1 && argv[0] != "-" {
				return usageError("report-leaked reads the secrets from stdin, one a line; it takes no argument but -")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			secrets, err := a.readSecrets()
			if err != nil {
				return err
			}
			conn, err := a.dial(false) // whoever holds a secret may report it
			if err != nil {
				return err
			}
			client := pb.NewTokenServiceClient(conn)
			var resp *pb.ReportLeakedTokensResponse
			err = a.call(cmd, func(ctx context.Context) error {
				resp, err = client.ReportLeakedTokens(ctx, &pb.ReportLeakedTokensRequest{Secrets: secrets})
				return err
			})
			if err != nil {
				return err
			}
			return a.show(view{msg: resp, table: func(t *table) {
				t.rows = append(t.rows, []string{fmt.Sprintf("Reported %d secret(s); every live token among them is being revoked.", len(secrets))})
			}})
		},
	}
	return c
}

// readSecrets reads up to maxLeakReport non-empty lines of stdin.
func (a *app) readSecrets() ([]string, error) {
	var secrets []string
	sc := bufio.NewScanner(io.LimitReader(a.env.Stdin, (maxLeakReport+1)*maxSecretBytes))
	sc.Buffer(make([]byte, maxSecretBytes), maxSecretBytes)
	for sc.Scan() {
		if s := strings.TrimSpace(sc.Text()); s != "" {
			secrets = append(secrets, s)
		}
		if len(secrets) > maxLeakReport {
			return nil, usageError(fmt.Sprintf("stdin holds more than %d secrets; report them in batches", maxLeakReport))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, usageError("read the secrets from stdin: " + err.Error())
	}
	if len(secrets) == 0 {
		return nil, usageError("stdin held no secret; give one a line")
	}
	return secrets, nil
}
