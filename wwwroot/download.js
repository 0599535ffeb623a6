// Saves bytes a page streams from the server (a backup: made with a passphrase, so never a GET link) as a download.
window.ovhaDownload = async (fileName, streamRef) => {
  const blob = new Blob([await streamRef.arrayBuffer()], { type: 'application/octet-stream' });
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
};
