-- Pandoc filter for the PDF: a link to a place in the page (`#…`, or the sheet's `#`
-- placeholders) has no target in the PDF, where typst would refuse it: keep its text.
function Link(link)
  if link.target:sub(1, 1) == "#" then
    return link.content
  end
end
