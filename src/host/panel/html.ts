import * as vscode from 'vscode';
import { randomBytes } from 'node:crypto';

/** The panel's page: strict CSP, one nonce'd script, no remote content. */
export function panelHtml(webview: vscode.Webview, extensionUri: vscode.Uri): string {
  const nonce = randomBytes(16).toString('base64');
  const script = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview.js'));
  const style = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', 'panel.css'));
  const csp = [
    "default-src 'none'",
    `img-src ${webview.cspSource} data: blob:`,
    `style-src ${webview.cspSource}`,
    `font-src ${webview.cspSource}`,
    // The result's tensors, fetched from the files the worker wrote (see AttentionPanel.show).
    `connect-src ${webview.cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
  return (
    `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${style}">
<title>Attention Lens</title>
</head>
<body>
<main id="app" aria-live="polite"><p class="empty">Select text in an editor and run ` +
    `<strong>Attention Lens: Explain Selection</strong>.</p></main>
<script nonce="${nonce}" src="${script}"></script>
</body>
</html>`
  );
}
